// `zccache explain <output>`: a hit says hit; a miss names what changed since the previous
// compile of the same output (source or header, argument, environment variable, compiler);
// `--json` gives causes[].kind; an output never compiled is a one-line error.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { CacheEnv, hasTool, type RunResult } from "../helpers.ts";

afterAll(() => CacheEnv.stopAll());

function expectOk(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\nstdout: ${r.out}\nstderr: ${r.err}`);
  return r;
}

interface Explained {
  output: string;
  outcome: string;
  reason: string | null;
  causes: { kind: string; detail: string }[];
  summary: string;
  [k: string]: unknown;
}

describe("explain", () => {
  const c = new CacheEnv({ CPATH: undefined, C_INCLUDE_PATH: undefined, CPLUS_INCLUDE_PATH: undefined });
  const obj = (): string => path.join(c.work, "m.o");

  const compile = (extra: string[] = [], env: Record<string, string | undefined> = {}): void => {
    expectOk(c.zc(["gcc", ...extra, "-c", "m.c", "-o", "m.o"], { env }), "gcc m.c");
  };
  const explain = (file = "m.o"): string => expectOk(c.zc(["explain", file]), `explain ${file}`).out;
  const explainJson = (file = "m.o"): Explained => JSON.parse(expectOk(c.zc(["explain", file, "--json"]), `explain ${file} --json`).out);
  const kinds = (e: Explained): string[] => e.causes.map((x) => x.kind).sort();

  test("a first compile is a miss with nothing to compare; a repeat is a hit", () => {
    c.write("inc/m.h", "#define M_VALUE 11\n");
    c.write("m.c", '#include "inc/m.h"\nint m_fn(void) { return M_VALUE; }\n');
    compile();
    const first = explainJson();
    expect(first.output).toBe(obj());
    expect(first.outcome).toBe("miss");
    expect(first.reason).toBe("new-source");
    expect(first.causes).toEqual([]);

    compile();
    const text = explain();
    expect(text).toContain(obj());
    expect(text).toMatch(/\bhit\b/);
    expect(text).not.toMatch(/\bmiss\b/);
    const j = explainJson();
    expect(j.outcome).toBe("hit");
    expect(j.causes).toEqual([]);
    // A relative and an absolute path name the same output.
    expect(explainJson(obj()).outcome).toBe("hit");
  });

  test("a changed header is named", () => {
    const header = path.join(c.work, "inc", "m.h");
    c.write("inc/m.h", "#define M_VALUE 12\n");
    compile();
    const text = explain();
    expect(text).toMatch(/\bmiss\b/);
    expect(text).toContain(header);
    const j = explainJson();
    expect(j.outcome).toBe("miss");
    expect(kinds(j)).toEqual(["header"]);
    expect(j.causes[0]?.detail).toContain(header);
  });

  test("a changed source is named", () => {
    c.write("m.c", '#include "inc/m.h"\nint m_fn(void) { return M_VALUE + 1; }\n');
    compile();
    const text = explain();
    expect(text).toMatch(/\bmiss\b/);
    expect(text).toContain(path.join(c.work, "m.c"));
    const j = explainJson();
    expect(j.outcome).toBe("miss");
    expect(kinds(j)).toEqual(["source"]);
    expect(j.causes[0]?.detail).toContain(path.join(c.work, "m.c"));
  });

  test("an added argument is named", () => {
    compile(); // hit: back to a known state
    expect(explainJson().outcome).toBe("hit");
    compile(["-DX=2"]);
    const text = explain();
    expect(text).toMatch(/\bmiss\b/);
    expect(text).toContain("-DX=2");
    const j = explainJson();
    expect(j.outcome).toBe("miss");
    expect(kinds(j)).toEqual(["argument"]);
    expect(j.causes[0]?.detail).toContain("-DX=2");
  });

  test("a changed environment variable (CPATH) is named", () => {
    const incDir = path.join(c.work, "extra-inc");
    fs.mkdirSync(incDir, { recursive: true });
    compile(["-DX=2"]); // hit
    expect(explainJson().outcome).toBe("hit");
    compile(["-DX=2"], { CPATH: incDir });
    const text = explain();
    expect(text).toMatch(/\bmiss\b/);
    expect(text).toContain("CPATH");
    const j = explainJson();
    expect(j.outcome).toBe("miss");
    expect(kinds(j)).toEqual(["env"]);
    expect(j.causes[0]?.detail).toContain("CPATH");
    expect(j.causes[0]?.detail).toContain(incDir);
  });

  test("a different compiler behind the same path is named", () => {
    expect(hasTool("gcc") && hasTool("clang")).toBe(true);
    const binDir = path.join(c.work, "toolchain");
    fs.mkdirSync(binDir, { recursive: true });
    const cc = path.join(binDir, "cc");
    fs.symlinkSync(Bun.which("gcc") as string, cc);
    c.write("n.c", "int n_fn(int x) { return x * 9; }\n");
    const compileN = (): void => {
      expectOk(c.zc([cc, "-c", "n.c", "-o", "n.o"]), `${cc} n.c`);
    };
    compileN(); // miss
    compileN(); // hit
    expect(explainJson("n.o").outcome).toBe("hit");

    fs.rmSync(cc);
    fs.symlinkSync(Bun.which("clang") as string, cc);
    compileN();
    const text = explain("n.o");
    expect(text).toMatch(/\bmiss\b/);
    expect(text).toContain("compiler");
    expect(text).toContain(cc);
    const j = explainJson("n.o");
    expect(j.outcome).toBe("miss");
    // The compiler is the cause; gcc's implicit stdc-predef.h, which clang does not read, may
    // be listed as well.
    expect(j.causes[0]?.kind).toBe("compiler");
    expect(j.causes[0]?.detail).toContain(cc);
    expect(kinds(j).filter((k) => k !== "header")).toEqual(["compiler"]);
    // And clang really built it.
    expect(c.read("n.o").includes(Buffer.from("clang"))).toBe(true);
  });

  test("the history survives a daemon restart", () => {
    const pid = c.status().pid;
    expectOk(c.zc(["stop"]), "stop");
    const j = explainJson("n.o");
    expect(c.status().pid).not.toBe(pid);
    expect(j.outcome).toBe("miss");
    expect(j.causes[0]?.kind).toBe("compiler");
    expect(explainJson().outcome).toBe("miss");
    expect(kinds(explainJson())).toEqual(["env"]);
  });

  test("an output never compiled is a one-line error", () => {
    const r = c.zc(["explain", "never-built.o"]);
    expect(r.code).not.toBe(0);
    expect(r.out).toBe("");
    const lines = r.err.split("\n").filter((l) => l !== "");
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain(path.join(c.work, "never-built.o"));
    const j = c.zc(["explain", "never-built.o", "--json"]);
    expect(j.code).not.toBe(0);
    expect(j.out).toBe("");
  });
});
