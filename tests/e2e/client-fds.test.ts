// Descriptors: a compiler zccache runs in the caller's place gets every descriptor the
// caller gave zccache, as an exec would: bash's `<(…)` (/dev/fd/63) and a make jobserver.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, hasTool, run, tempDir, ZCCACHE } from "../helpers.ts";

afterAll(() => CacheEnv.stopAll());

const BASH = Bun.which("bash") ?? "/bin/bash";

describe("caller descriptors reach the compiler", () => {
  for (const mode of ["cached", "ZCCACHE_DISABLE=1"] as const) {
    test(`gcc -c <(…) through zccache (${mode}) matches bare gcc`, () => {
      const c = new CacheEnv();
      const env = { ...c.env, ZC: ZCCACHE, ...(mode === "cached" ? {} : { ZCCACHE_DISABLE: "1" }) };
      const script = 'exec "$ZC" gcc -O1 -x c -c <(printf "int from_pipe(int x) { return x + 5; }\\n") -o p.o';
      const r = run([BASH, "-c", script], { cwd: c.work, env });
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const ref = tempDir("zc-fd-ref-");
      const b = bare([BASH, "-c", 'exec gcc -O1 -x c -c <(printf "int from_pipe(int x) { return x + 5; }\\n") -o p.o'], ref);
      expect(b.code).toBe(0);
      expect(c.read("p.o").equals(fs.readFileSync(path.join(ref, "p.o")))).toBe(true);
    });
  }

  test("make -j2 with a jobserver: the compiler zccache runs still holds the jobserver's descriptors", () => {
    if (!hasTool("make")) throw new Error("make is needed (scripts/ensure-test-tools.sh installs it)");
    const c = new CacheEnv();
    const bin = tempDir("zc-fd-bin-");
    const log = path.join(bin, "fds.log");
    // gcc, after noting whether the descriptors MAKEFLAGS names are open in it.
    const checker = path.join(bin, "gcc");
    fs.writeFileSync(
      checker,
      [
        "#!/bin/sh",
        `fds=$(printf '%s' "$MAKEFLAGS" | sed -n 's/.*--jobserver-auth=\\([0-9]*\\),\\([0-9]*\\).*/\\1 \\2/p')`,
        `[ -n "$fds" ] || echo "no-jobserver $1" >> ${log}`,
        `for fd in $fds; do if [ -e /proc/self/fd/$fd ]; then echo "open $fd"; else echo "closed $fd"; fi; done >> ${log}`,
        'exec /usr/bin/gcc "$@"',
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    for (const n of ["a", "b", "c", "d"]) c.write(`${n}.c`, `int ${n}_fn(int x) { return x * ${n.charCodeAt(0)}; }\n`);
    // "+": make hands its jobserver to recursive-looking recipes only; that is what a
    // compiler driving LTO or a sub-make sees.
    c.write(
      "Makefile",
      ["OBJS = a.o b.o c.o d.o", "all: $(OBJS)", "%.o: %.c", "\t+$(CC) -c $< -o $@", ""].join("\n"),
    );
    const bareRun = run(["make", "-j2", `CC=${checker}`], { cwd: c.work, env: c.env });
    expect(bareRun.code).toBe(0);
    const bareLines = fs.readFileSync(log, "utf8").trim().split("\n");
    expect(bareLines.length).toBe(8);
    expect(bareLines.every((l) => l.startsWith("open "))).toBe(true);

    fs.rmSync(log);
    for (const n of ["a", "b", "c", "d"]) fs.rmSync(path.join(c.work, `${n}.o`));
    const viaZc = run(["make", "-j2", `CC=${ZCCACHE} ${checker}`], { cwd: c.work, env: { ...c.env, ZCCACHE_DISABLE: "1" } });
    expect(viaZc.err).toBe("");
    expect(viaZc.code).toBe(0);
    const lines = fs.readFileSync(log, "utf8").trim().split("\n");
    expect(lines).toEqual(bareLines.map(() => expect.stringMatching(/^open \d+$/)));
    for (const n of ["a", "b", "c", "d"]) expect(fs.existsSync(path.join(c.work, `${n}.o`))).toBe(true);
  });
});
