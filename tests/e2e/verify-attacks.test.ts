// Attacks on verified hits (verify_rate, zccache verify --session): a background verification
// must never write into the build's tree, never quarantine a correct entry because a rebuild
// raced it, never outlive `zccache stop` (nor leave its scratch behind), and a quarantine must
// hold across a daemon restart. Real gcc through the real CLI.
import { afterAll, describe, expect, test } from "bun:test";
import { startRedis, stopAllServers } from "../fixtures/servers.ts";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, requireTool, type Status, tempDir } from "../helpers.ts";
import { bareObject, diff, expectOk, outcomeOf, put } from "../assertions.ts";

afterAll(async () => {
  CacheEnv.stopAll();
  await stopAllServers();
});

/** Background verifications run at nice 19 on a busy machine: wait generously. */
const VERIFY_WAIT_MS = 90_000;
const POLL_MS = 250;

const HAVE_GCC = requireTool("gcc", "verified hits");

/** Polls `pred` (which may run the CLI) without hammering the machine. */
async function eventually(pred: () => boolean, timeoutMs = VERIFY_WAIT_MS): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pred()) return true;
    await Bun.sleep(POLL_MS);
  }
  return pred();
}

/** Inputs an hour old: nothing about them is racy when the cache looks. */
function backDate(...paths: string[]): void {
  const t = Date.now() / 1000 - 3600;
  for (const p of paths) fs.utimesSync(p, t, t);
}

function verifyCounts(s: Status): Record<string, number> {
  return (s.verify ?? {}) as Record<string, number>;
}

/** Every verification result counted so far. */
function verificationsDone(s: Status): number {
  return Object.values(verifyCounts(s)).reduce((a, b) => a + b, 0);
}

/** Every file under `dir` with its size and mtime: what a verification must not change. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = fs.statSync(p);
        out[path.relative(dir, p)] = `${st.size}@${st.mtimeMs}`;
      }
    }
  };
  walk(dir);
  return out;
}

/** Scratch dirs of verifications under the cache root's tmp/. */
function scratchDirs(c: CacheEnv): string[] {
  try {
    return fs.readdirSync(path.join(c.root, "tmp")).filter((n) => n.startsWith("verify-"));
  } catch {
    return [];
  }
}

/** Live processes whose command line names `needle` (read-only: /proc). */
function processesNaming(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(needle)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids.filter((p) => p !== process.pid);
}

/**
 * A compiler wrapper that notes each run (a file named by its PID in `runs`) and sleeps
 * `secs` before running gcc: a verification of its hits stays running long enough to race.
 * The daemon's questions about the toolchain (-print-prog-name=…, the -v search-path query)
 * are answered at once and not counted: they are no compile, and sleeping in each of them
 * only made every miss take several times `secs`.
 */
/** The daemon's toolchain questions (-print-prog-name=…, the -v search-path query), answered at once. */
const TOOLCHAIN_QUERY = `case " $* " in *" -print-prog-name="*|*" -v "*) exec gcc "$@" ;; esac\n`;

function slowCompiler(c: CacheEnv, name: string, runs: string, secs: number): string {
  fs.mkdirSync(runs, { recursive: true });
  const p = c.write(name, `#!/bin/sh\n${TOOLCHAIN_QUERY}touch '${runs}'/$$\nsleep ${secs}\nexec gcc "$@"\n`);
  fs.chmodSync(p, 0o755);
  backDate(p);
  return p;
}

const runCount = (runs: string): number => fs.readdirSync(runs).length;

/**
 * Like slowCompiler, but each compile waits for the file `gate` to exist instead of sleeping
 * (for at most 30 s, so a broken test cannot hang a build): the test decides when the
 * compile reads its inputs, whatever the machine's load.
 */
function gatedCompiler(c: CacheEnv, name: string, runs: string, gate: string): string {
  fs.mkdirSync(runs, { recursive: true });
  const wait = `n=0\nwhile [ ! -e '${gate}' ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n+1)); done\n`;
  const p = c.write(name, `#!/bin/sh\n${TOOLCHAIN_QUERY}touch '${runs}'/$$\n${wait}exec gcc "$@"\n`);
  fs.chmodSync(p, 0o755);
  backDate(p);
  return p;
}

describe.if(HAVE_GCC)("verified hits under attack", () => {
  const c = new CacheEnv({ ZCCACHE_VERIFY_RATE: undefined, ZCCACHE_SESSION_ID: undefined });

  function compile(args: readonly string[], env: Record<string, string | undefined> = {}, cwd?: string): string {
    const before = c.status();
    expectOk(c.zc(args, { env, cwd }), args.join(" "));
    return outcomeOf(diff(before, c.status()));
  }

  test("a verification writes nothing in the build's tree (-MD, -MMD -MF relative, outputs in another dir) and cleans its scratch", async () => {
    c.mkdir("w1/src");
    c.mkdir("w1/out/deps");
    backDate(c.write("w1/src/p.c", '#include "p.h"\nint p_fn(void) { return P; }\n'), c.write("w1/src/p.h", "#define P 7\n"));
    backDate(c.write("w1/src/q.c", "int q_fn(void) { return 8; }\n"));
    const w1 = path.join(c.work, "w1");
    // The verifications' compiles start seconds after their hits: a write of theirs cannot hide in the hits' own.
    const runs = tempDir("zc-verify-runs-");
    const cc = path.relative(w1, slowCompiler(c, "tree-gcc", runs, 2));
    const jobs: string[][] = [
      [cc, "-c", "src/p.c", "-o", "out/p.o", "-MD"],
      [cc, "-c", "src/q.c", "-o", "out/q.o", "-MMD", "-MF", "out/deps/q.d"],
      [cc, "-c", "src/p.c", "-o", "out/p2.o", "-MD", "-MT", "custom-target", "-g"],
    ];
    for (const j of jobs) expect(compile(j, {}, w1)).toBe("miss:new-source");
    for (const j of jobs) expect(compile(j, {}, w1)).toBe("hit");
    const tree = snapshot(c.work);
    const start = c.status();
    for (const j of jobs) expect(compile(j, { ZCCACHE_VERIFY_RATE: "1" }, w1)).toBe("hit");
    const hitTree = snapshot(c.work);
    expect(await eventually(() => verificationsDone(c.status()) >= verificationsDone(start) + jobs.length)).toBe(true);
    const end = c.status();
    // Correct entries verify as correct (the depfiles too: the scratch run names the user's target).
    expect(verifyCounts(end).verified ?? 0).toBe((verifyCounts(start).verified ?? 0) + jobs.length);
    expect(end.quarantined ?? 0).toBe(0);
    // The hits themselves rewrote the outputs; the verifications added, changed, removed nothing.
    expect(Object.keys(hitTree).sort()).toEqual(Object.keys(tree).sort());
    expect(snapshot(c.work)).toEqual(hitTree);
    expect(scratchDirs(c)).toEqual([]);
  });

  test("a hit whose outputs are named in a response file (@file): the verification still writes nothing in the tree", async () => {
    c.mkdir("rsp/out");
    const dir = path.join(c.work, "rsp");
    backDate(c.write("rsp/r.c", "int r_fn(void) { return 12; }\n"), c.write("rsp/args.rsp", "-c r.c -o out/r.o -MD -MF out/r.d\n"));
    const cc = path.relative(dir, slowCompiler(c, "rsp-gcc", tempDir("zc-verify-runs-"), 2));
    expect(compile([cc, "@args.rsp"], {}, dir)).toBe("miss:new-source");
    expect(compile([cc, "@args.rsp"], {}, dir)).toBe("hit");
    const start = c.status();
    expect(compile([cc, "@args.rsp"], { ZCCACHE_VERIFY_RATE: "1" }, dir)).toBe("hit");
    const tree = snapshot(dir);
    expect(await eventually(() => verificationsDone(c.status()) > verificationsDone(start))).toBe(true);
    expect((verifyCounts(c.status()).verified ?? 0) - (verifyCounts(start).verified ?? 0)).toBe(1);
    expect(snapshot(dir)).toEqual(tree);
    expect(scratchDirs(c)).toEqual([]);
  });

  /**
   * Compiles `src` (and its `inputs`, all backdated) through a compiler that waits at a gate,
   * then hits it with every hit verified: the verification's compile starts, waits before it
   * reads anything, `rewrite` changes an input, and the gate opens. The counters before the
   * hit and after the verification.
   */
  async function raceVerification(compiler: string, src: string, inputs: readonly string[], rewrite: () => void): Promise<{ start: Status; end: Status }> {
    const runs = tempDir("zc-verify-runs-");
    const gate = path.join(tempDir("zc-verify-gate-"), "go");
    gatedCompiler(c, compiler, runs, gate);
    backDate(...inputs);
    const argv = [`./${compiler}`, "-c", src, "-o", src.replace(/\.c$/, ".o")];
    fs.writeFileSync(gate, "");
    expect(compile(argv)).toBe("miss:new-source");
    fs.rmSync(gate);
    try {
      const start = c.status();
      const ranBefore = runCount(runs);
      expect(compile(argv, { ZCCACHE_VERIFY_RATE: "1" })).toBe("hit");
      // The verification's compile has started and waits at the gate before reading the source:
      // the rebuild edits an input now, then lets the compile go on.
      expect(await eventually(() => runCount(runs) > ranBefore)).toBe(true);
      rewrite();
      fs.writeFileSync(gate, "");
      expect(await eventually(() => verificationsDone(c.status()) > verificationsDone(start))).toBe(true);
      return { start, end: c.status() };
    } finally {
      // Whatever failed above, no verification is left waiting at the gate.
      fs.writeFileSync(gate, "");
    }
  }

  test("a source rewritten while its verification runs is not a mismatch, and the next compile uses the new source", async () => {
    const src = c.write("race.c", "int race_fn(void) { return 1; }\n");
    const { start, end } = await raceVerification("slow-gcc", "race.c", [src], () => {
      fs.writeFileSync(src, "int race_fn(void) { return 2222; }\n");
      backDate(src);
    });
    expect(verifyCounts(end)["verify-mismatch"] ?? 0).toBe(verifyCounts(start)["verify-mismatch"] ?? 0);
    expect(verifyCounts(end).verified ?? 0).toBe(verifyCounts(start).verified ?? 0);
    expect(verifyCounts(end)["not-verifiable"] ?? 0).toBe((verifyCounts(start)["not-verifiable"] ?? 0) + 1);
    expect(end.quarantined ?? 0).toBe(start.quarantined ?? 0);
    expect(compile(["./slow-gcc", "-c", "race.c", "-o", "race.o"])).toMatch(/^miss:/);
    expect(c.read("race.o").equals(bareObject(c.work, "race.c"))).toBe(true);
  });

  test("a header rewritten while its verification runs is not a mismatch", async () => {
    const hdr = c.write("hrace.h", "#define HV 1\n");
    const src = c.write("hrace.c", '#include "hrace.h"\nint hrace_fn(void) { return HV; }\n');
    const { start, end } = await raceVerification("hslow-gcc", "hrace.c", [src, hdr], () => {
      fs.writeFileSync(hdr, "#define HV 4242\n");
      backDate(hdr);
    });
    expect(verifyCounts(end)["verify-mismatch"] ?? 0).toBe(verifyCounts(start)["verify-mismatch"] ?? 0);
    expect(end.quarantined ?? 0).toBe(start.quarantined ?? 0);
    expect(compile(["./hslow-gcc", "-c", "hrace.c", "-o", "hrace.o"])).toMatch(/^miss:/);
  });

  test("ZCCACHE_VERIFY_RATE: '0.10', ' 1', '0' are taken; '1e-3', 'NaN', '-1', 'Infinity', '.' are refused with one line", async () => {
    backDate(c.write("rate.c", "int rate_fn(void) { return 3; }\n"));
    expect(compile(["gcc", "-c", "rate.c", "-o", "rate.o"])).toBe("miss:new-source");
    for (const good of ["0.10", "0", " 1", "1 "]) {
      const r = c.zc(["gcc", "-c", "rate.c", "-o", "rate.o"], { env: { ZCCACHE_VERIFY_RATE: good } });
      expect({ good, code: r.code, err: r.err }).toEqual({ good, code: 0, err: "" });
    }
    for (const bad of ["1e-3", "NaN", "-1", "Infinity", ".", "0x1"]) {
      const before = c.status();
      const r = c.zc(["gcc", "-c", "rate.c", "-o", "rate.o"], { env: { ZCCACHE_VERIFY_RATE: bad } });
      expect(r.code).toBe(0);
      expect({ bad, lines: r.err.split("\n").filter((l) => l !== "") }).toEqual({
        bad,
        lines: [`zccache: ZCCACHE_VERIFY_RATE: expected a fraction from 0 to 1 (e.g. 0.01), got '${bad}'; compiling without the cache`],
      });
      const d = diff(before, c.status());
      expect(d.hits + d.misses).toBe(0);
    }
    expect(await eventually(() => c.status().verify_pending === 0)).toBe(true);
  });

  test("a burst of hits at rate 1: every hit is counted once (verified or dropped), the queue drains, no scratch is left", async () => {
    backDate(c.write("burst.c", "int burst_fn(int x) { return x * 11; }\n"));
    expect(compile(["gcc", "-c", "burst.c", "-o", "burst.o"])).toBe("miss:new-source");
    await eventually(() => c.status().verify_pending === 0);
    const start = c.status();
    const HITS = 40;
    const all = await Promise.all(
      Array.from({ length: HITS }, () => c.zcAsync(["gcc", "-c", "burst.c", "-o", "burst.o"], { env: { ZCCACHE_VERIFY_RATE: "1" } })),
    );
    for (const r of all) expect(r.code).toBe(0);
    const hits = c.status().hits - start.hits;
    expect(hits).toBe(HITS);
    expect(await eventually(() => verificationsDone(c.status()) === verificationsDone(start) + HITS)).toBe(true);
    const end = c.status();
    expect(end.verify_pending).toBe(0);
    const delta = (k: string): number => (verifyCounts(end)[k] ?? 0) - (verifyCounts(start)[k] ?? 0);
    expect(delta("verified") + delta("verify-dropped")).toBe(HITS);
    expect(delta("verified")).toBeGreaterThan(0);
    expect(scratchDirs(c)).toEqual([]);
  });

  test("verify --session from another cwd: relative paths resolve, a rewritten output and a deleted one are skipped", () => {
    const id = (JSON.parse(expectOk(c.zc(["session-start"]), "session-start").out) as { session_id: string }).session_id;
    const session = { ZCCACHE_SESSION_ID: id };
    c.mkdir("vs/o");
    const vs = path.join(c.work, "vs");
    for (const n of ["x", "y", "z"]) backDate(c.write(`vs/${n}.c`, `int ${n}_fn(void) { return ${n.charCodeAt(0)}; }\n`));
    for (const n of ["x", "y", "z"]) expect(compile(["gcc", "-c", `${n}.c`, "-o", `o/${n}.o`], session, vs)).toBe("miss:new-source");
    for (const n of ["x", "y", "z"]) fs.rmSync(path.join(vs, "o", `${n}.o`));
    for (const n of ["x", "y", "z"]) expect(compile(["gcc", "-c", `${n}.c`, "-o", `o/${n}.o`], session, vs)).toBe("hit");
    // Rewritten by something else after the hit (not through the cache), and deleted.
    const y = path.join(vs, "o", "y.o");
    fs.writeFileSync(y, "not an object");
    const later = Date.now() / 1000 + 60;
    fs.utimesSync(y, later, later);
    fs.rmSync(path.join(vs, "o", "z.o"));
    const r = c.zc(["verify", "--session", id, "--json"], { cwd: "/" });
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: "" });
    const report = JSON.parse(r.out) as { results: { output: string; status: string }[] };
    expect(report.results.map((x) => [x.output, x.status])).toEqual([
      [path.join(vs, "o", "x.o"), "ok"],
      [y, "skipped"],
      [path.join(vs, "o", "z.o"), "skipped"],
    ]);
    // The check wrote nothing: y.o is still what the other tool left, z.o still gone.
    expect(fs.readFileSync(y, "utf8")).toBe("not an object");
    expect(fs.existsSync(path.join(vs, "o", "z.o"))).toBe(false);
    expect(scratchDirs(c)).toEqual([]);
  });

  test("verify --session judges the hit's compile, not the asking shell's: another gcc on PATH, CPATH, DEPENDENCIES_OUTPUT", () => {
    const id = (JSON.parse(expectOk(c.zc(["session-start"]), "session-start").out) as { session_id: string }).session_id;
    c.mkdir("envs");
    const dir = path.join(c.work, "envs");
    backDate(c.write("envs/e.c", "#include <limits.h>\nint e_fn(void) { return INT_MAX; }\n"));
    expect(compile(["gcc", "-c", "e.c", "-o", "e.o"], { ZCCACHE_SESSION_ID: id }, dir)).toBe("miss:new-source");
    fs.rmSync(path.join(dir, "e.o"));
    expect(compile(["gcc", "-c", "e.c", "-o", "e.o"], { ZCCACHE_SESSION_ID: id }, dir)).toBe("hit");
    const status = (env: Record<string, string | undefined>): { code: number; statuses: string[]; detail: string[] } => {
      const r = c.zc(["verify", "--session", id, "--json"], { env });
      const report = JSON.parse(r.out) as { results: { status: string; detail: string }[] };
      return { code: r.code, statuses: report.results.map((x) => x.status), detail: report.results.map((x) => x.detail) };
    };
    expect(status({}).statuses).toEqual(["ok"]);

    // A shell whose PATH finds another "gcc" (here one that builds differently): not the compiler of the hit.
    const other = tempDir("zc-verify-othergcc-");
    const fake = path.join(other, "gcc");
    fs.writeFileSync(fake, `#!/bin/sh\nexec ${Bun.which("gcc")} -DINT_MAX=7 "$@"\n`);
    fs.chmodSync(fake, 0o755);
    backDate(fake);
    const onPath = status({ PATH: `${other}:${process.env.PATH ?? ""}` });
    expect({ what: "another gcc on PATH", ...onPath }).not.toMatchObject({ statuses: ["mismatch"] });

    // A shell with CPATH set (the build had none): a header it shadows is not what the hit read.
    const inc = tempDir("zc-verify-cpath-");
    backDate(put(inc, "limits.h", "#define INT_MAX 9\n"));
    const withCpath = status({ CPATH: inc });
    expect({ what: "CPATH", ...withCpath }).not.toMatchObject({ statuses: ["mismatch"] });

    // A shell with DEPENDENCIES_OUTPUT set: the check must not write a depfile into the build's tree.
    const leaked = path.join(dir, "leak.d");
    status({ DEPENDENCIES_OUTPUT: "leak.d" });
    expect({ leaked: fs.existsSync(leaked) }).toEqual({ leaked: false });
    expect(fs.existsSync(path.join(dir, "e.o"))).toBe(true);
  });

  test("a hit shared across checkouts (base_dir, path remap, -g, -MD, header by -I) verifies as correct in the second checkout", async () => {
    const base = path.join(c.work, "co");
    const env = { ZCCACHE_BASE_DIR: base, ZCCACHE_PATH_REMAP: "1" };
    for (const co of ["one", "two"]) {
      c.mkdir(`co/${co}/build`);
      backDate(
        c.write(`co/${co}/inc/k.h`, "#define K 17\n"),
        c.write(`co/${co}/src/k.c`, '#include "k.h"\nint k_fn(void) { return K; }\nconst char *k_file(void) { return "k"; }\n'),
      );
    }
    const args = ["gcc", "-g", "-MD", "-I../inc", "-c", "../src/k.c", "-o", "k.o"];
    expect(compile(args, env, path.join(base, "one", "build"))).toBe("miss:new-source");
    const start = c.status();
    expect(compile(args, { ...env, ZCCACHE_VERIFY_RATE: "1" }, path.join(base, "two", "build"))).toBe("hit");
    expect(await eventually(() => verificationsDone(c.status()) > verificationsDone(start))).toBe(true);
    const end = c.status();
    const delta = (k: string): number => (verifyCounts(end)[k] ?? 0) - (verifyCounts(start)[k] ?? 0);
    expect({ verified: delta("verified"), mismatch: delta("verify-mismatch") }).toEqual({ verified: 1, mismatch: 0 });
    expect(end.quarantined ?? 0).toBe(start.quarantined ?? 0);
  });

  test("verify --session racing a rebuild that rewrites the output while the check compiles: skipped, not a mismatch", async () => {
    const runs = tempDir("zc-verify-runs-");
    slowCompiler(c, "vslow-gcc", runs, 3);
    const id = (JSON.parse(expectOk(c.zc(["session-start"]), "session-start").out) as { session_id: string }).session_id;
    backDate(c.write("vr.c", "int vr_fn(void) { return 31; }\n"));
    expect(compile(["./vslow-gcc", "-c", "vr.c", "-o", "vr.o"], { ZCCACHE_SESSION_ID: id })).toBe("miss:new-source");
    fs.rmSync(path.join(c.work, "vr.o"));
    expect(compile(["./vslow-gcc", "-c", "vr.c", "-o", "vr.o"], { ZCCACHE_SESSION_ID: id })).toBe("hit");
    const ranBefore = runCount(runs);
    const checking = c.zcAsync(["verify", "--session", id, "--json"]);
    // The check's compile is running: the build (not through the cache) writes another object there now.
    expect(await eventually(() => runCount(runs) > ranBefore)).toBe(true);
    const other = bare(["gcc", "-O2", "-DNOT_THE_HIT", "-c", "vr.c", "-o", "vr.o"], c.work);
    expect(other.code).toBe(0);
    const r = await checking;
    const report = JSON.parse(r.out) as { results: { status: string; detail: string }[] };
    expect({ code: r.code, statuses: report.results.map((x) => x.status) }).toEqual({ code: 0, statuses: ["skipped"] });
  });

  test("a quarantine holds across a daemon restart: the wrong entry is never served again", async () => {
    const markerDir = tempDir("zc-verify-marker-");
    const marker = path.join(markerDir, "evil");
    const wrapper = c.write("evil2-gcc", `#!/bin/sh\nif [ -e '${marker}' ]; then exec gcc -DEVIL=1 "$@"; fi\nexec gcc "$@"\n`);
    fs.chmodSync(wrapper, 0o755);
    backDate(wrapper, c.write("ev.c", "int ev_fn(void) {\n#ifdef EVIL\n  return 666;\n#else\n  return 1;\n#endif\n}\n"));
    const good = bareObject(c.work, "ev.c");
    fs.writeFileSync(marker, "");
    expect(compile(["./evil2-gcc", "-c", "ev.c", "-o", "ev.o"])).toBe("miss:new-source");
    fs.rmSync(marker);
    const start = c.status();
    expect(compile(["./evil2-gcc", "-c", "ev.c", "-o", "ev.o"], { ZCCACHE_VERIFY_RATE: "1" })).toBe("hit");
    expect(await eventually(() => (verifyCounts(c.status())["verify-mismatch"] ?? 0) > (verifyCounts(start)["verify-mismatch"] ?? 0))).toBe(true);
    const pid = c.status().pid;
    expectOk(c.zc(["stop"]), "stop");
    expect(await eventually(() => c.daemonPids().length === 0, 30_000)).toBe(true);
    // A new daemon: the quarantine was persisted, so this compile misses and delivers the right object.
    expect(compile(["./evil2-gcc", "-c", "ev.c", "-o", "ev.o"])).toBe("miss:quarantined");
    expect(c.status().pid).not.toBe(pid);
    expect(c.read("ev.o").equals(good)).toBe(true);
    fs.rmSync(path.join(c.work, "ev.o"));
    expect(compile(["./evil2-gcc", "-c", "ev.c", "-o", "ev.o"])).toBe("hit");
    expect(c.read("ev.o").equals(good)).toBe(true);
  });

  test("zccache stop with a verification running and more queued: stops, leaves no compile running and no scratch", async () => {
    const runs = tempDir("zc-verify-runs-");
    slowCompiler(c, "slower-gcc", runs, 6);
    backDate(c.write("stop.c", "int stop_fn(void) { return 5; }\n"));
    expect(compile(["./slower-gcc", "-c", "stop.c", "-o", "stop.o"])).toBe("miss:new-source");
    const ranBefore = runCount(runs);
    for (let i = 0; i < 4; i++) expect(compile(["./slower-gcc", "-c", "stop.c", "-o", "stop.o"], { ZCCACHE_VERIFY_RATE: "1" })).toBe("hit");
    expect(await eventually(() => runCount(runs) > ranBefore)).toBe(true);
    expectOk(c.zc(["stop"]), "stop");
    expect(await eventually(() => c.daemonPids().length === 0, 60_000)).toBe(true);
    // The verification's compile (its wrapper, or the gcc it became) does not outlive the daemon…
    const wrappers = fs.readdirSync(runs).map(Number);
    const alive = (): number[] => [
      ...processesNaming(path.join(c.root, "tmp")),
      ...wrappers.filter((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes("slower-gcc");
        } catch {
          return false;
        }
      }),
    ];
    expect(await eventually(() => alive().length === 0, 30_000)).toBe(true);
    // …and its scratch dir went with it.
    expect(scratchDirs(c)).toEqual([]);
  });

  test("zccache stop while gcc itself is verifying (cc1 running): nothing of it outlives the daemon, not even its temp files", async () => {
    // A source gcc -O2 takes seconds over, and a private TMPDIR for the compiles (the hit's env is the verification's).
    const fns = Array.from({ length: 900 }, (_, i) => `int g${i}(int *a, int n) { int s = 0; for (int j = 0; j < n; j++) s += a[j] * ${i} + (s >> 3); return s; }`);
    backDate(c.write("slowsrc.c", `${fns.join("\n")}\n`));
    const tmp = tempDir("zc-verify-tmpdir-");
    const env = { TMPDIR: tmp };
    expect(compile(["gcc", "-O2", "-c", "slowsrc.c", "-o", "slowsrc.o"], env)).toBe("miss:new-source");
    expect(compile(["gcc", "-O2", "-c", "slowsrc.c", "-o", "slowsrc.o"], { ...env, ZCCACHE_VERIFY_RATE: "1" })).toBe("hit");
    const scratch = path.join(c.root, "tmp", "verify-");
    // The verification's cc1 (it names the scratch dir) is running.
    expect(await eventually(() => processesNaming(scratch).some((p) => /cc1/.test(fs.readFileSync(`/proc/${p}/cmdline`, "utf8"))))).toBe(true);
    expectOk(c.zc(["stop"]), "stop");
    expect(await eventually(() => c.daemonPids().length === 0, 60_000)).toBe(true);
    const left = await eventually(() => processesNaming(scratch).length === 0, 60_000);
    const leftover = processesNaming(scratch);
    for (const p of leftover) {
      try {
        process.kill(p, "SIGKILL"); // started by this test's daemon; by PID only
      } catch {
        // gone
      }
    }
    expect({ left, leftover }).toEqual({ left: true, leftover: [] });
    expect(await eventually(() => fs.readdirSync(tmp).length === 0, 30_000)).toBe(true);
    expect(scratchDirs(c)).toEqual([]);
  });
});

describe.if(HAVE_GCC && Bun.which("redis-server") !== null)("verified hits with a remote tier", () => {
  test("an entry a verification proved wrong is not served from the remote after `zccache clear`", async () => {
    const redis = await startRedis();
    const c = new CacheEnv({ ZCCACHE_VERIFY_RATE: undefined, ZCCACHE_SESSION_ID: undefined, ZCCACHE_REMOTE_STORAGE: redis.url });
    const compile = (args: readonly string[], env: Record<string, string | undefined> = {}): string => {
      const before = c.status();
      expectOk(c.zc(args, { env }), args.join(" "));
      return outcomeOf(diff(before, c.status()));
    };
    const marker = path.join(tempDir("zc-verify-marker-"), "evil");
    const wrapper = c.write("evil3-gcc", `#!/bin/sh\nif [ -e '${marker}' ]; then exec gcc -DEVIL=1 "$@"; fi\nexec gcc "$@"\n`);
    fs.chmodSync(wrapper, 0o755);
    backDate(wrapper, c.write("rv.c", "int rv_fn(void) {\n#ifdef EVIL\n  return 666;\n#else\n  return 1;\n#endif\n}\n"));
    const good = bareObject(c.work, "rv.c");
    fs.writeFileSync(marker, "");
    expect(compile(["./evil3-gcc", "-c", "rv.c", "-o", "rv.o"])).toBe("miss:new-source");
    fs.rmSync(marker);
    const start = c.status();
    expect(compile(["./evil3-gcc", "-c", "rv.c", "-o", "rv.o"], { ZCCACHE_VERIFY_RATE: "1" })).toBe("hit");
    expect(await eventually(() => (verifyCounts(c.status())["verify-mismatch"] ?? 0) > (verifyCounts(start)["verify-mismatch"] ?? 0))).toBe(true);
    expectOk(c.zc(["clear"]), "clear");
    fs.rmSync(path.join(c.work, "rv.o"));
    const outcome = compile(["./evil3-gcc", "-c", "rv.c", "-o", "rv.o"]);
    expect({ outcome, good: c.read("rv.o").equals(good) }).toMatchObject({ good: true });
    c.stop();
  });
});
