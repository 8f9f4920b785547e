// cargo build / check / clippy through RUSTC_WRAPPER=zccache on a generated workspace (a lib
// chain, a proc-macro, a build script setting cargo:rustc-env, a bin, a cdylib), with the real
// cargo and rustc, offline: clean rebuilds hit, edits and env changes miss exactly the
// crates they affect, other target dirs and working directories hit with cargo's names and
// freshness, diagnostics replay byte for byte.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { CacheEnv, missing, run } from "../helpers.ts";
import { CARGO_BIN, cargo, cargoEnv, cargoMeasured, compilerMessages, hasClippy, writeWorkspace } from "../fixtures/rust/cargo.ts";
import { targetInfoProbe } from "../fixtures/rust/probes.ts";

const env = new CacheEnv();
afterAll(() => CacheEnv.stopAll());

const ws = path.join(env.work, "ws");
const skip = CARGO_BIN === null;
if (skip) missing("rust-cargo: no cargo on PATH or in ~/.cargo/bin", "the suite is");

const EXPECTED_OUTPUT = "mid(base[data-1|extra-1|plain]) generated-7 42";
/** base, mid, mac, gen's build script, gen, app: the crates that go through rustc per build. */
const CACHEABLE = 6;

function runApp(targetDir = path.join(ws, "target")): string {
  const r = run([path.join(targetDir, "debug", "app")], { cwd: ws });
  expect(r.code).toBe(0);
  return r.out.trim();
}

function edit(rel: string, from: string, to: string): void {
  const p = path.join(ws, rel);
  const text = fs.readFileSync(p, "utf8");
  expect(text.includes(from)).toBe(true);
  fs.writeFileSync(p, text.replace(from, to));
}

function compiled(stderr: string): string[] {
  return [...stderr.matchAll(/^\s+(?:Compiling|Checking) (\S+)/gm)].map((m) => m[1] as string).sort();
}

describe.skipIf(skip)("cargo through zccache", () => {
  beforeAll(() => writeWorkspace(ws));

  test("1: build, clean, build: every cacheable crate hits, counted as rust; the bin runs the same", () => {
    const cold = cargoMeasured(env, ["build"], ws);
    expect(cold.d.misses).toBe(CACHEABLE);
    expect(cold.d.hits).toBe(0);
    expect(cold.d.reasons["dylib-crate"]).toBe(1);
    const first = runApp();
    expect(first).toBe(EXPECTED_OUTPUT);

    cargo(env, ["clean"], ws);
    const warm = cargoMeasured(env, ["build"], ws);
    expect({ hits: warm.d.hits, misses: warm.d.misses, errors: warm.d.errors }).toEqual({ hits: CACHEABLE, misses: 0, errors: 0 });
    expect(warm.d.languages.rust?.hits).toBe(CACHEABLE);
    expect(warm.d.languages.c).toBeUndefined();
    expect(warm.d.languages["c++"]).toBeUndefined();
    // cargo's own probes (-vV, --print with stdin) and the cdylib are counted, not cached.
    expect(warm.d.reasons["dylib-crate"]).toBe(1);
    expect((warm.d.reasons["info-query"] ?? 0) + (warm.d.reasons["stdin-input"] ?? 0)).toBeGreaterThan(0);
    expect(runApp()).toBe(first);
    const st = env.status();
    expect(st.languages.rust?.hits).toBeGreaterThanOrEqual(CACHEABLE);

    // cargo considers what the hits wrote fresh: nothing is compiled, nothing asked of us.
    const again = cargoMeasured(env, ["build"], ws);
    expect(compiled(again.r.err)).toEqual([]);
    expect(again.d.hits + again.d.misses + again.d.uncacheable).toBe(0);
  });

  test("7: -C incremental is on for the workspace crates and does not stop caching", () => {
    cargo(env, ["clean"], ws);
    const r = cargoMeasured(env, ["build", "-v"], ws);
    expect(r.r.err).toContain("-C incremental=");
    expect(r.d.hits).toBe(CACHEABLE);
    expect(fs.existsSync(path.join(ws, "target", "debug", "libcdy.so"))).toBe(true);
  });

  test("2: cargo check is cached too; check after build and build after check stay correct", () => {
    const coldCheck = cargoMeasured(env, ["check"], ws);
    // The four libs and the bin are checked (metadata only); cargo builds the proc-macro and
    // the build script for check with their own unit hashes.
    expect(coldCheck.d.misses).toBeGreaterThanOrEqual(5);
    expect(coldCheck.d.hits).toBe(0);
    cargo(env, ["clean"], ws);
    const warmCheck = cargoMeasured(env, ["check"], ws);
    expect(warmCheck.d.misses).toBe(0);
    // After the clean, cargo also rebuilds what the first check found fresh from the build.
    expect(warmCheck.d.hits).toBeGreaterThanOrEqual(coldCheck.d.misses);
    const build = cargoMeasured(env, ["build"], ws);
    expect(build.d.misses).toBe(0);
    expect(runApp()).toBe(EXPECTED_OUTPUT);
    const checkAgain = cargoMeasured(env, ["check"], ws);
    expect(compiled(checkAgain.r.err)).toEqual([]);
    expect(checkAgain.d.hits + checkAgain.d.misses).toBe(0);
    const buildAgain = cargoMeasured(env, ["build"], ws);
    expect(compiled(buildAgain.r.err)).toEqual([]);
  });

  test("3: an edit misses that crate and its dependents and hits the rest; include_str!/mod files count", () => {
    edit("base/src/lib.rs", "base[", "BASE[");
    cargo(env, ["clean"], ws);
    const r = cargoMeasured(env, ["build"], ws);
    expect({ hits: r.d.hits, misses: r.d.misses }).toEqual({ hits: 3, misses: 3 }); // base, mid, app miss
    expect(runApp()).toBe(EXPECTED_OUTPUT.replace("base[", "BASE["));

    // A file pulled in with include_str!: cargo rebuilds base, and the cache must not answer
    // with the old entry.
    fs.writeFileSync(path.join(ws, "base/data.txt"), "data-2\n");
    const inc = cargoMeasured(env, ["build"], ws);
    expect(compiled(inc.r.err)).toEqual(["app", "base", "mid"]);
    expect(inc.d.misses).toBe(3);
    expect(runApp()).toContain("data-2");

    // A module file.
    edit("base/src/extra.rs", "extra-1", "extra-2");
    const mod = cargoMeasured(env, ["build"], ws);
    expect(mod.d.misses).toBe(3);
    expect(runApp()).toContain("extra-2");

    // Back to the original sources: the first entries are valid again.
    edit("base/src/lib.rs", "BASE[", "base[");
    fs.writeFileSync(path.join(ws, "base/data.txt"), "data-1\n");
    edit("base/src/extra.rs", "extra-2", "extra-1");
    cargo(env, ["clean"], ws);
    const back = cargoMeasured(env, ["build"], ws);
    expect({ hits: back.d.hits, misses: back.d.misses }).toEqual({ hits: CACHEABLE, misses: 0 });
    expect(runApp()).toBe(EXPECTED_OUTPUT);
  });

  test("4: a variable read with option_env! misses when it changes; an unrelated one does not", () => {
    cargo(env, ["clean"], ws);
    const flavoured = cargoMeasured(env, ["build"], ws, { ZC_TEST_FLAVOR: "spicy" });
    expect(flavoured.d.misses).toBe(3); // base reads it; mid and app link the new base
    expect(runApp()).toContain("|spicy]");
    cargo(env, ["clean"], ws);
    const again = cargoMeasured(env, ["build"], ws, { ZC_TEST_FLAVOR: "spicy" });
    expect({ hits: again.d.hits, misses: again.d.misses }).toEqual({ hits: CACHEABLE, misses: 0 });
    cargo(env, ["clean"], ws);
    const unrelated = cargoMeasured(env, ["build"], ws, { ZC_UNRELATED_VARIABLE: "whatever" });
    expect({ hits: unrelated.d.hits, misses: unrelated.d.misses }).toEqual({ hits: CACHEABLE, misses: 0 });
    expect(runApp()).toBe(EXPECTED_OUTPUT);
  });

  test("6: another --target-dir and another working directory hit with cargo's names, paths and freshness", () => {
    const other = path.join(env.work, "other-target");
    const r = cargoMeasured(env, ["build", "--target-dir", other], ws);
    expect({ hits: r.d.hits, misses: r.d.misses }).toEqual({ hits: CACHEABLE, misses: 0 });
    expect(runApp(other)).toBe(EXPECTED_OUTPUT);
    const deps = fs.readdirSync(path.join(other, "debug", "deps"));
    for (const prefix of ["libbase-", "libmid-", "libmac-", "libgen-", "app-"]) {
      expect(deps.some((f) => f.startsWith(prefix))).toBe(true);
    }
    const depFiles = deps.filter((f) => f.endsWith(".d"));
    expect(depFiles.length).toBeGreaterThanOrEqual(5);
    for (const f of depFiles) {
      const text = fs.readFileSync(path.join(other, "debug", "deps", f), "utf8");
      expect(text).toContain(`${other}/debug/deps/`);
      expect(text).not.toContain(path.join(ws, "target"));
    }
    const fresh = cargoMeasured(env, ["build", "--target-dir", other], ws);
    expect(compiled(fresh.r.err)).toEqual([]);

    // cargo run from another directory (rustc still runs at the workspace root).
    const third = path.join(env.work, "third-target");
    const sub = cargoMeasured(env, ["build", "--manifest-path", path.join(ws, "Cargo.toml"), "--target-dir", third], env.work);
    expect(sub.d.misses).toBe(0);
    expect(sub.d.hits).toBe(CACHEABLE);
    expect(runApp(third)).toBe(EXPECTED_OUTPUT);
  });

  test("6: a copy of the tree elsewhere hits when --remap-path-prefix hides the path, and misses when it does not", () => {
    const copy = path.join(env.work, "ws-copy");
    fs.cpSync(ws, copy, { recursive: true, filter: (src) => !src.includes(`${path.sep}target`) });
    // Without remapping, rmeta and debug info record the absolute source path: no sharing.
    const plain = cargoMeasured(env, ["build"], copy);
    expect(plain.d.hits).toBe(0);

    cargo(env, ["clean"], ws);
    const remapped1 = cargoMeasured(env, ["build"], ws, { RUSTFLAGS: `--remap-path-prefix=${ws}=/ws` });
    expect(remapped1.d.misses).toBe(CACHEABLE);
    cargo(env, ["clean"], copy);
    const remapped2 = cargoMeasured(env, ["build"], copy, { RUSTFLAGS: `--remap-path-prefix=${copy}=/ws` });
    expect({ hits: remapped2.d.hits, misses: remapped2.d.misses }).toEqual({ hits: CACHEABLE, misses: 0 });
    expect(runApp(path.join(copy, "target"))).toBe(EXPECTED_OUTPUT);
    for (const f of fs.readdirSync(path.join(copy, "target", "debug", "deps")).filter((n) => n.endsWith(".d"))) {
      expect(fs.readFileSync(path.join(copy, "target", "debug", "deps", f), "utf8")).not.toContain(ws + "/");
    }
    // An edit in the copy is seen in the copy (its sources, not the original's, are checked).
    fs.appendFileSync(path.join(copy, "base/src/extra.rs"), "pub fn more() {}\n");
    const edited = cargoMeasured(env, ["build"], copy, { RUSTFLAGS: `--remap-path-prefix=${copy}=/ws` });
    expect(edited.d.misses).toBe(3);
    cargo(env, ["clean"], ws);
  });

  test("5: a changed extern crate (different rlib content) makes its dependent miss", () => {
    const dir = path.join(env.work, "extern");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "dep.rs"), "pub fn v() -> u32 { 1 }\n");
    fs.writeFileSync(path.join(dir, "user.rs"), "pub fn w() -> u32 { dep::v() + 1 }\n");
    const rustc = path.join(CARGO_BIN ?? "", "rustc");
    const pathEnv = { PATH: `${CARGO_BIN}:${env.env.PATH}` };
    const compileDep = (): void => {
      const r = env.zc([rustc, "--crate-name", "dep", "--crate-type", "lib", "--emit=link", "dep.rs", "--out-dir", "."], { cwd: dir, env: pathEnv });
      expect(r.code).toBe(0);
    };
    const compileUser = () => {
      const before = env.status();
      const r = env.zc([rustc, "--crate-name", "user", "--crate-type", "lib", "--emit=dep-info,link", "user.rs", "--out-dir", ".", "--extern", "dep=libdep.rlib"], {
        cwd: dir,
        env: pathEnv,
      });
      expect(r.code).toBe(0);
      const after = env.status();
      return { hits: after.hits - before.hits, misses: after.misses - before.misses };
    };
    compileDep();
    expect(compileUser()).toEqual({ hits: 0, misses: 1 });
    expect(compileUser()).toEqual({ hits: 1, misses: 0 });
    fs.writeFileSync(path.join(dir, "dep.rs"), "pub fn v() -> u32 { 2 }\n");
    compileDep();
    expect(compileUser()).toEqual({ hits: 0, misses: 1 });
  });

  test("static libraries in -L native= directories are inputs (also when only #[link] names them)", () => {
    const dir = path.join(env.work, "native");
    const nat = path.join(dir, "nat");
    fs.mkdirSync(nat, { recursive: true });
    const rustc = path.join(CARGO_BIN ?? "", "rustc");
    const pathEnv = { PATH: `${CARGO_BIN}:${env.env.PATH}` };
    const makeLib = (value: number): void => {
      fs.writeFileSync(path.join(dir, "two.c"), `int two(void) { return ${value}; }\n`);
      expect(run(["gcc", "-c", "two.c", "-o", "two.o"], { cwd: dir }).code).toBe(0);
      fs.rmSync(path.join(nat, "libtwo.a"), { force: true });
      expect(run(["ar", "rcs", "nat/libtwo.a", "two.o"], { cwd: dir }).code).toBe(0);
    };
    fs.writeFileSync(path.join(dir, "sys.rs"), '#[link(name = "two", kind = "static")]\nextern "C" { pub fn two() -> i32; }\n');
    const compile = () => {
      const before = env.status();
      const r = env.zc([rustc, "--crate-name", "sys", "--crate-type", "rlib", "--emit=dep-info,link", "sys.rs", "--out-dir", ".", "-L", "native=nat"], {
        cwd: dir,
        env: pathEnv,
      });
      expect(r.code).toBe(0);
      const after = env.status();
      return { hits: after.hits - before.hits, misses: after.misses - before.misses };
    };
    makeLib(2);
    expect(compile()).toEqual({ hits: 0, misses: 1 });
    expect(compile()).toEqual({ hits: 1, misses: 0 });
    makeLib(3); // the rlib bundles the archive: a new archive must not get the old rlib
    expect(compile()).toEqual({ hits: 0, misses: 1 });
  });

  test("a bin's link driver: LPATH is in the key; clang printing or logging its runs leaves the compile to rustc", () => {
    const dir = path.join(env.work, "linkdriver");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "hello.rs"), 'fn main() { println!("hello"); }\n');
    const rustc = path.join(CARGO_BIN ?? "", "rustc");
    const compile = (extra: Record<string, string>) => {
      const before = env.status();
      const r = env.zc([rustc, "--crate-name", "hello", "--crate-type", "bin", "--emit=dep-info,link", "hello.rs", "--out-dir", ".", "-C", "linker=clang"], {
        cwd: dir,
        env: { PATH: `${CARGO_BIN}:${env.env.PATH}`, ...extra },
      });
      expect(r.code).toBe(0);
      const after = env.status();
      return { hits: after.hits - before.hits, misses: after.misses - before.misses };
    };
    expect(compile({})).toEqual({ hits: 0, misses: 1 });
    expect(compile({})).toEqual({ hits: 1, misses: 0 });
    expect(compile({ LPATH: path.join(dir, "lib") })).toEqual({ hits: 0, misses: 1 });
    // clang appends each link's command line to the file: a hit would not.
    const log = path.join(dir, "opts.log");
    expect(compile({ CC_PRINT_OPTIONS: "1", CC_PRINT_OPTIONS_FILE: log })).toEqual({ hits: 0, misses: 0 });
    expect(fs.readFileSync(log, "utf8")).toContain("hello");
  });

  test("a bin's link driver: a gcc specs file it would read leaves the compile to rustc", () => {
    const dir = path.join(env.work, "linkspecs");
    const lib = path.join(dir, "lib");
    fs.mkdirSync(lib, { recursive: true });
    fs.writeFileSync(path.join(dir, "hello.rs"), 'fn main() { println!("hello"); }\n');
    const rustc = path.join(CARGO_BIN ?? "", "rustc");
    const argv = [rustc, "--crate-name", "hello", "--crate-type", "bin", "--emit=dep-info,link", "hello.rs", "--out-dir", "."];
    const extra = { PATH: `${CARGO_BIN}:${env.env.PATH}`, LIBRARY_PATH: lib };
    const compile = () => {
      const before = env.status();
      expect(env.zc(argv, { cwd: dir, env: extra }).code).toBe(0);
      const after = env.status();
      return { hits: after.hits - before.hits, misses: after.misses - before.misses };
    };
    expect(compile()).toEqual({ hits: 0, misses: 1 });
    expect(compile()).toEqual({ hits: 1, misses: 0 });
    const plain = fs.readFileSync(path.join(dir, "hello"));
    fs.writeFileSync(path.join(lib, "specs"), "*link:\n+ --hash-style=sysv\n\n");
    const old = new Date(Date.now() - 10_000);
    fs.utimesSync(path.join(lib, "specs"), old, old);
    expect(compile()).toEqual({ hits: 0, misses: 0 });
    // The setup is real: the driver read the file.
    expect(fs.readFileSync(path.join(dir, "hello")).equals(plain)).toBe(false);
    // Without it, the entry serves again; then a startup file appears there, searched first.
    fs.rmSync(path.join(lib, "specs"));
    expect(compile()).toEqual({ hits: 1, misses: 0 });
    const crt = run(["gcc", "-print-file-name=Scrt1.o"], { cwd: dir }).out.trim();
    expect(run(["objcopy", "--add-section", `.zc=${path.join(dir, "hello.rs")}`, crt, path.join(lib, "Scrt1.o")], { cwd: dir }).code).toBe(0);
    fs.utimesSync(path.join(lib, "Scrt1.o"), old, old);
    expect(compile()).toEqual({ hits: 0, misses: 1 });
    expect(fs.readFileSync(path.join(dir, "hello")).equals(plain)).toBe(false);
  });

  test("7: dylib/cdylib crates and --test harness builds pass through, counted with a reason", () => {
    const r = cargoMeasured(env, ["test", "--no-run", "-p", "base"], ws);
    expect(r.d.reasons["test-harness"]).toBeGreaterThanOrEqual(1);
    expect(r.d.languages.rust?.uncacheable).toBeGreaterThanOrEqual(1);
    cargo(env, ["clean", "-p", "cdy"], ws);
    const c = cargoMeasured(env, ["build", "-p", "cdy"], ws);
    expect(c.d.reasons["dylib-crate"]).toBe(1);
    expect(c.d.hits + c.d.misses).toBe(0);
  });

  test("8: warnings replay exactly on hits (cargo's JSON messages), errors are never cached", () => {
    cargo(env, ["clean"], ws);
    const miss = cargoMeasured(env, ["build", "--message-format=json"], ws, { ZC_TEST_FLAVOR: "json" });
    const missMessages = compilerMessages(miss.r.out);
    expect(missMessages.some((m) => m.includes("unused_value"))).toBe(true);
    cargo(env, ["clean"], ws);
    const hit = cargoMeasured(env, ["build", "--message-format=json"], ws, { ZC_TEST_FLAVOR: "json" });
    expect(hit.d.misses).toBe(0);
    expect(compilerMessages(hit.r.out)).toEqual(missMessages);
    // The human rendering cargo prints is the same too.
    const warning = (s: string): string => {
      const start = s.indexOf("warning: unused variable");
      return s.slice(start, s.indexOf("generated 1 warning", start));
    };
    cargo(env, ["clean"], ws);
    const humanMiss = cargoMeasured(env, ["build"], ws, { ZC_TEST_FLAVOR: "human" });
    expect(humanMiss.d.misses).toBe(3);
    cargo(env, ["clean"], ws);
    const humanHit = cargoMeasured(env, ["build"], ws, { ZC_TEST_FLAVOR: "human" });
    expect(humanHit.d.misses).toBe(0);
    expect(warning(humanMiss.r.err)).toContain("unused_value");
    expect(warning(humanHit.r.err)).toBe(warning(humanMiss.r.err));

    edit("mid/src/lib.rs", "pub fn mid()", "pub fn mid() -> u8 { missing_fn() }\npub fn mid_old()");
    const before = env.status();
    const fail1 = cargo(env, ["build"], ws);
    const fail2 = cargo(env, ["build"], ws);
    const after = env.status();
    expect(fail1.code).not.toBe(0);
    expect(fail1.err).toContain("cannot find function `missing_fn`");
    expect(fail2.err).toContain("cannot find function `missing_fn`");
    expect((after.reasons["compile-failed"] ?? 0) - (before.reasons["compile-failed"] ?? 0)).toBe(2);
    edit("mid/src/lib.rs", "pub fn mid() -> u8 { missing_fn() }\npub fn mid_old()", "pub fn mid()");
  });

  test("8: clippy-driver goes through the same path; its lints replay on hits", () => {
    if (!hasClippy()) {
      missing("cargo clippy is not installed", "this test is");
      return;
    }
    edit("mid/src/lib.rs", 'pub fn mid() -> String { format!("mid({})", base::base()) }', 'pub fn mid() -> String { return format!("mid({})", base::base()); }');
    cargo(env, ["clean"], ws);
    const miss = cargoMeasured(env, ["clippy", "--message-format=json"], ws);
    const lints = compilerMessages(miss.r.out);
    expect(lints.some((m) => m.includes("clippy::needless_return"))).toBe(true);
    expect(miss.d.misses).toBeGreaterThan(0);
    cargo(env, ["clean"], ws);
    const hit = cargoMeasured(env, ["clippy", "--message-format=json"], ws);
    expect(hit.d.misses).toBe(0);
    expect(hit.d.hits).toBe(miss.d.misses);
    expect(compilerMessages(hit.r.out)).toEqual(lints);
    // A clippy.toml that appears changes clippy's configuration: no stale hit.
    fs.writeFileSync(path.join(ws, "clippy.toml"), "too-many-arguments-threshold = 3\n");
    cargo(env, ["clean"], ws);
    const conf = cargoMeasured(env, ["clippy", "--message-format=json"], ws);
    expect(conf.d.misses).toBeGreaterThan(0);
    fs.rmSync(path.join(ws, "clippy.toml"));
    edit("mid/src/lib.rs", 'pub fn mid() -> String { return format!("mid({})", base::base()); }', 'pub fn mid() -> String { format!("mid({})", base::base()) }');
  });
});

describe.skipIf(skip)("cargo's probes answered by the daemon", () => {
  /**
   * A logging shim around the real toolchain rustc, installed as the rustc of a sysroot of
   * its own (under work/<dir>) whose compiler library the test can change: every run (the
   * daemon's probes, the client's own run) leaves a line; what it prints is the real rustc's.
   */
  async function loggedToolchain(dir: string) {
    const sysroot = run([path.join(CARGO_BIN ?? "", "rustc"), "--print", "sysroot"], { env: cargoEnv(env) }).out.trim();
    const real = path.join(sysroot, "bin", "rustc");
    const log = path.join(env.work, dir, "runs.log");
    const fakeRoot = path.join(env.work, dir, "sysroot");
    const lib = env.write(`${dir}/sysroot/lib/librustc_driver-zctest.so`, "one");
    const shimText = `#!/bin/sh\necho "$*" >> '${log}'\nif [ "$1 $2" = "--print sysroot" ]; then echo '${fakeRoot}'; exit 0; fi\nexec '${real}' "$@"\n`;
    const shim = env.write(`${dir}/sysroot/bin/rustc`, shimText);
    fs.chmodSync(shim, 0o755);
    // A probe is replayed only when nothing it depends on changed within the racy window.
    await Bun.sleep(2_200);
    const runs = (): string[] => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").sort() : []);
    return { real, lib, shim, shimText, runs };
  }

  test("9: -vV byte for byte and without running rustc; an override variable, a changed library or a shim outside its sysroot leaves it to rustc", async () => {
    const { real, lib, shim, shimText, runs } = await loggedToolchain("vv");
    const want = run([real, "-vV"]);
    expect(want.code).toBe(0);
    /** What `zccache <rustc> -vV` prints; it must exit 0, print nothing else and count one info query. */
    const ask = (rustc = shim, extra: Record<string, string | undefined> = {}): string => {
      const before = env.status().reasons["info-query"] ?? 0;
      const r = env.zc([rustc, "-vV"], { env: extra });
      expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: "" });
      expect((env.status().reasons["info-query"] ?? 0) - before).toBe(1);
      return r.out;
    };

    // The first ask probes the toolchain (the daemon's two runs) and is answered from it.
    expect(ask()).toBe(want.out);
    expect(runs()).toEqual(["--print sysroot", "-vV"]);
    expect(ask()).toBe(want.out);
    expect(runs()).toEqual(["--print sysroot", "-vV"]);

    // A RUSTC_* variable can change what rustc prints: rustc answers, with the override.
    expect(ask(shim, { RUSTC_OVERRIDE_VERSION_STRING: "7.7.7-zctest" }).split("\n")[0]).toBe("rustc 7.7.7-zctest");
    expect(runs()).toEqual(["--print sysroot", "-vV", "-vV"]);
    expect(ask()).toBe(want.out);
    expect(runs().length).toBe(3);

    // The compiler library changes under the same binary: the daemon probes again. Changed
    // within the racy window, it might have changed while that probe ran: rustc answers.
    fs.writeFileSync(lib, "two");
    expect(ask()).toBe(want.out);
    expect(runs()).toEqual(["--print sysroot", "--print sysroot", "-vV", "-vV", "-vV", "-vV"]);
    // Past the window, the next change is probed and that probe answered from.
    await Bun.sleep(2_200);
    fs.writeFileSync(lib, "three");
    await Bun.sleep(2_200);
    expect(ask()).toBe(want.out);
    expect(runs().length).toBe(8);
    expect(ask()).toBe(want.out);
    expect(runs().length).toBe(8);

    // The same shim outside its sysroot (as a proxy or a version-manager shim is): probed,
    // not remembered, and rustc answers; from then on without a probe.
    const stray = env.write("vv/bin/rustc", shimText);
    fs.chmodSync(stray, 0o755);
    await Bun.sleep(2_200);
    expect(ask(stray)).toBe(want.out);
    expect(runs().length).toBe(11);
    expect(ask(stray)).toBe(want.out);
    expect(runs().length).toBe(12);

    // A toolchain first probed for a compile run with a RUSTC_* variable set: what it printed
    // then is not replayed (another binary, so that the daemon probes it afresh).
    fs.appendFileSync(shim, "# another binary\n");
    env.write("vv/lib.rs", "pub fn f() -> u8 { 1 }\n");
    await Bun.sleep(2_200);
    const compile = env.zc([shim, "--crate-name", "vv", "--crate-type", "lib", "--edition=2021", "lib.rs", "--out-dir", "out"], {
      cwd: path.join(env.work, "vv"),
      env: { RUSTC_BOOTSTRAP: "1" },
    });
    expect(compile.code).toBe(0);
    const probed = runs().length;
    expect(probed).toBe(15);
    expect(ask()).toBe(want.out);
    expect(runs().length).toBe(probed + 1);
  });

  test("10: the target-info probe: run by the daemon once per arguments, then answered; other stdin, native CPU, a non-host target or a RUSTC_* variable leaves it to rustc", async () => {
    const { real, lib, shim, runs } = await loggedToolchain("ti");
    const probe = targetInfoProbe;
    const host = (/^host: (\S+)$/m.exec(run([real, "-vV"]).out) ?? [])[1] as string;
    /** `zccache <shim> args` (stdin /dev/null unless given), compared with the real rustc's answer; one stdin-input counted. */
    const ask = (args: string[], stdin?: string, extra: Record<string, string | undefined> = {}) => {
      const want = run([real, ...args], { stdin, env: { ...env.env, ...extra } });
      const before = env.status().reasons["stdin-input"] ?? 0;
      const r = env.zc([shim, ...args], { stdin, env: extra });
      expect({ code: r.code, out: r.out, err: r.err }).toEqual({ code: want.code, out: want.out, err: want.err });
      expect((env.status().reasons["stdin-input"] ?? 0) - before).toBe(1);
      return r;
    };

    // The first time, the daemon probes the toolchain and runs the probe itself; then it answers.
    expect(ask(probe()).out).toContain('target_os="linux"');
    expect(runs()).toEqual(["--print sysroot", "-vV", probe().join(" ")].sort());
    ask(probe());
    expect(runs().length).toBe(3);

    // Other arguments are another question, asked once.
    expect(ask(probe("--cfg", "zc_probe_test")).out).toContain("zc_probe_test");
    expect(runs().length).toBe(4);
    ask(probe("--cfg", "zc_probe_test"));
    ask(probe("--target", host));
    ask(probe("--target", host));
    expect(runs().length).toBe(5);

    // A source on stdin, the host's CPU, a target rustc may find as a spec file, or a RUSTC_*
    // variable: rustc answers, every time.
    ask(probe(), "fn main() {}\n");
    expect(runs().length).toBe(6);
    ask(probe("-C", "target-cpu=native"));
    ask(probe("-C", "target-cpu=native"));
    expect(runs().length).toBe(8);
    expect(ask(probe("--target", "wasm32-unknown-unknown")).out).toContain('target_arch="wasm32"');
    ask(probe("--target", "wasm32-unknown-unknown"));
    expect(runs().length).toBe(10);
    ask(probe(), undefined, { RUSTC_BOOTSTRAP: "1" });
    expect(runs().length).toBe(11);

    // The daemon's answers survive its restart.
    env.zc(["stop"]);
    ask(probe("--cfg", "zc_probe_test"));
    expect(runs().length).toBe(11);

    // The compiler's library changes: the toolchain is probed again, and so is the question.
    fs.writeFileSync(lib, "two");
    await Bun.sleep(2_200);
    ask(probe());
    expect(runs().length).toBe(14);
    ask(probe());
    expect(runs().length).toBe(14);
  });
});
