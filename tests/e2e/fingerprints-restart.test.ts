// Toolchain fingerprints outlive the daemon: after a restart, the first hits compute no
// compiler, sub-tool or Rust toolchain fingerprint again (counted by the daemon, not timed),
// and a compiler replaced while no daemon ran is noticed by its stat and fingerprinted anew.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bareObject, compileIn, expectOk } from "../assertions.ts";
import { CacheEnv, tempDir } from "../helpers.ts";
import { CARGO_BIN, cargo, cargoMeasured, writeWorkspace } from "../fixtures/rust/cargo.ts";

afterAll(() => CacheEnv.stopAll());

function computed(c: CacheEnv): number {
  return Number(c.status().toolchain_fingerprints_computed);
}

function backdate(p: string): void {
  const when = new Date(Date.now() - 60_000);
  fs.utimesSync(p, when, when);
}

describe("fingerprints across a daemon restart", () => {
  test("C: the first hit after a restart fingerprints no compiler binary again", () => {
    const c = new CacheEnv();
    c.write("r.c", "#include <stdio.h>\nint r_fn(void) { return puts(\"r\"); }\n");
    backdate(path.join(c.work, "r.c"));
    expectOk(compileIn(c, "r.c"));
    // gcc, cc1 and as were read and hashed by this daemon.
    expect(computed(c)).toBeGreaterThanOrEqual(3);
    expectOk(c.zc(["stop"]));

    fs.rmSync(path.join(c.work, "r.o"));
    expectOk(compileIn(c, "r.c"));
    const st = c.status();
    expect({ hits: st.hits, computed: st.toolchain_fingerprints_computed }).toEqual({ hits: 1, computed: 0 });
    expect(c.read("r.o").equals(bareObject(c.work, "r.c"))).toBe(true);
  });

  test("a compiler replaced while no daemon ran is fingerprinted again (and misses)", () => {
    const c = new CacheEnv();
    // A copy of the gcc driver in a prefix of its own whose lib/ and libexec/ are the
    // system's: it finds cc1 and as where the real one does.
    const prefix = tempDir("zc-fp-prefix-");
    fs.mkdirSync(path.join(prefix, "bin"));
    fs.symlinkSync("/usr/lib", path.join(prefix, "lib"));
    fs.symlinkSync("/usr/libexec", path.join(prefix, "libexec"));
    const gcc = path.join(prefix, "bin", "gcc");
    fs.copyFileSync(fs.realpathSync("/usr/bin/gcc"), gcc);
    fs.chmodSync(gcc, 0o755);
    backdate(gcc);
    c.write("s.c", "int s_fn(int x) { return x * 5; }\n");
    backdate(path.join(c.work, "s.c"));
    expectOk(c.zc([gcc, "-c", "s.c", "-o", "s.o"]));
    expect(c.status().misses).toBe(1);
    expectOk(c.zc(["stop"]));
    // Same size, same mtime, other content: only the content can tell. Append one byte (an
    // ELF file runs the same with a trailing byte) and put the old mtime back.
    const before = fs.statSync(gcc);
    fs.appendFileSync(gcc, Buffer.from([0]));
    fs.utimesSync(gcc, before.atime, before.mtime);
    fs.rmSync(path.join(c.work, "s.o"));
    expectOk(c.zc([gcc, "-c", "s.c", "-o", "s.o"]));
    const st = c.status();
    // The driver was read again (cc1 and as were not: their stat is unchanged).
    expect(st.toolchain_fingerprints_computed).toBe(1);
    expect({ hits: st.hits, misses: st.misses }).toEqual({ hits: 0, misses: 2 });
  });

  test.if(CARGO_BIN !== null)("Rust: a cargo rebuild right after a restart fingerprints no toolchain again", () => {
    const c = new CacheEnv();
    const ws = path.join(tempDir("zc-fp-rs-"), "ws");
    writeWorkspace(ws);
    const det = { CARGO_INCREMENTAL: "0" };
    const first = cargoMeasured(c, ["build"], ws, det);
    expect(first.d.misses).toBeGreaterThan(0);
    expect(computed(c)).toBeGreaterThan(0);
    expectOk(c.zc(["stop"]));
    expect(cargo(c, ["clean"], ws, det).code).toBe(0);
    const again = cargoMeasured(c, ["build"], ws, det);
    expect({ misses: again.d.misses, hits: again.d.hits }).toEqual({ misses: 0, hits: first.d.misses });
    expect(computed(c)).toBe(0);
  });
});
