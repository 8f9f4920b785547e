// Relocatable Rust entries (issue 12; /tmp spec item 6): the generated cargo workspace in two
// checkouts under one ZCCACHE_BASE_DIR, through RUSTC_WRAPPER=zccache with the real cargo.
// With ZCCACHE_PATH_REMAP=1 the second checkout's build hits for every workspace crate, and
// its artefacts equal what a fresh cache builds there. Without remapping it misses or
// produces exactly what a bare cargo build produces there.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { CacheEnv, missing, run, sleepMs, tempDir, ZCCACHE } from "../helpers.ts";
import { expectSameBytes } from "../assertions.ts";
import { CARGO_BIN, cargo, cargoEnv, cargoMeasured, writeWorkspace } from "../fixtures/rust/cargo.ts";
import { type Tree, twoCheckouts as sharedTwoCheckouts } from "../fixtures/relocation/reloc.ts";

afterAll(() => CacheEnv.stopAll());

const skip = CARGO_BIN === null;
if (skip) missing("relocation-rust: no cargo on PATH or in ~/.cargo/bin", "the suite is");

const EXPECTED_OUTPUT = "mid(base[data-1|extra-1|plain]) generated-7 42";
/**
 * rustc's incremental mode makes two bare builds of the same crate differ (codegen-unit
 * partitioning): byte comparisons need it off. rust-cargo.test.ts covers caching with it on.
 */
const DET = { CARGO_INCREMENTAL: "0" };
/** base, mid, mac, gen's build script, gen, app: the crates that go through rustc per build. */
const CACHEABLE = 6;

/** Two checkouts of the workspace. */
function twoCheckouts(): Tree {
  return sharedTwoCheckouts("zc-reloc-rs-", "ws1", writeWorkspace);
}

function runApp(ws: string): string {
  const r = run([path.join(ws, "target", "debug", "app")], { cwd: ws });
  expect(r.code).toBe(0);
  return r.out.trim();
}

/**
 * The artefacts rustc wrote for the workspace (rlibs, rmeta, the proc-macro and the cdylib,
 * the bin, dep-info), by path below target/debug; build-script run output is left out.
 */
function artefacts(ws: string): Map<string, Buffer> {
  const deps = path.join(ws, "target", "debug", "deps");
  const out = new Map<string, Buffer>();
  for (const f of fs.readdirSync(deps).sort()) {
    if (!/\.(rlib|rmeta|so|d)$/.test(f) && !/^app-[0-9a-f]+$/.test(f)) continue;
    out.set(`deps/${f}`, fs.readFileSync(path.join(deps, f)));
  }
  return out;
}

function expectSameArtefacts(got: Map<string, Buffer>, want: Map<string, Buffer>, what: string): void {
  expect({ what, names: [...got.keys()] }).toEqual({ what, names: [...want.keys()] });
  for (const [name, bytes] of want) expectSameBytes(got.get(name) ?? null, bytes, `${what}: ${name}`);
}

describe.skipIf(skip)("cargo in two checkouts under one base dir", () => {
  test("ZCCACHE_PATH_REMAP=1: the second checkout hits for every workspace crate, identical to a fresh-cache build there", () => {
    const t = twoCheckouts();
    const settings = { ZCCACHE_BASE_DIR: t.top, ZCCACHE_PATH_REMAP: "1" };
    const c = new CacheEnv(settings);
    const first = cargoMeasured(c, ["build"], t.one, DET);
    expect({ hits: first.d.hits, misses: first.d.misses }).toEqual({ hits: 0, misses: CACHEABLE });
    expect(runApp(t.one)).toBe(EXPECTED_OUTPUT);

    const second = cargoMeasured(c, ["build"], t.two, DET);
    expect({ hits: second.d.hits, misses: second.d.misses, errors: second.d.errors }).toEqual({ hits: CACHEABLE, misses: 0, errors: 0 });
    expect(runApp(t.two)).toBe(EXPECTED_OUTPUT);
    const hit = artefacts(t.two);
    // Nothing of the first checkout reached the second one's artefacts or dep-info.
    for (const [name, bytes] of hit) {
      expect({ name, hasFirst: bytes.includes(Buffer.from(`${t.one}/`)) }).toEqual({ name, hasFirst: false });
    }

    // The same build there with a fresh cache (misses): the same bytes.
    const fresh = new CacheEnv(settings);
    cargo(fresh, ["clean"], t.two, DET);
    const miss = cargoMeasured(fresh, ["build"], t.two, DET);
    expect({ hits: miss.d.hits, misses: miss.d.misses }).toEqual({ hits: 0, misses: CACHEABLE });
    expectSameArtefacts(artefacts(t.two), hit, "hit in the second checkout vs a fresh-cache miss there");

    // An edit in the second checkout only: its crate and dependents miss there, the first still hits.
    fs.appendFileSync(path.join(t.two, "base/src/extra.rs"), "pub fn more() {}\n");
    const edited = cargoMeasured(c, ["build"], t.two, DET);
    expect({ hits: edited.d.hits, misses: edited.d.misses }).toEqual({ hits: 0, misses: 3 });
    cargo(c, ["clean"], t.one, DET);
    const back = cargoMeasured(c, ["build"], t.one, DET);
    expect({ hits: back.d.hits, misses: back.d.misses }).toEqual({ hits: CACHEABLE, misses: 0 });
    expect(runApp(t.one)).toBe(EXPECTED_OUTPUT);
  }, 300_000);

  test("no remap: the second checkout misses or builds exactly what a bare cargo build there does", () => {
    const t = twoCheckouts();
    const c = new CacheEnv({ ZCCACHE_BASE_DIR: t.top });
    // Bare reference in the second checkout (no wrapper), then clean.
    const b = cargo(c, ["build"], t.two, { ...DET, RUSTC_WRAPPER: undefined });
    if (b.code !== 0) throw new Error(`bare cargo build failed:\n${b.err}`);
    const bare = artefacts(t.two);
    cargo(c, ["clean"], t.two, { ...DET, RUSTC_WRAPPER: undefined });

    const first = cargoMeasured(c, ["build"], t.one, DET);
    expect(first.d.misses).toBe(CACHEABLE);
    const second = cargoMeasured(c, ["build"], t.two, DET);
    expect(second.d.hits + second.d.misses).toBe(CACHEABLE);
    expectSameArtefacts(artefacts(t.two), bare, `second checkout (${second.d.hits} hits) vs bare`);
    expect(runApp(t.two)).toBe(EXPECTED_OUTPUT);
  }, 300_000);
});

describe.skipIf(skip)("a file named by its absolute path in the source, with the cwd remapped", () => {
  // With the cwd remapped the key leaves it out and inputs below it are recorded relative, so
  // a second checkout hits. A literal absolute path (`include_str!("/tree/x")`) is read in
  // that tree from every checkout: the second checkout's copy must not stand in for it.
  // Plain: the file in the checkout (the cwd). Under a base dir: the file beside the crate's
  // directory, in the checkout the base dir holds (recorded relative to the cwd too).
  for (const layout of ["in the cwd", "under a base dir, beside the cwd"] as const) {
    test(`include_str! of the first tree's file (${layout}): edited there, the second checkout does not get the old bytes`, async () => {
      const top = tempDir("zc-rs-lit-");
      const based = layout !== "in the cwd";
      const c = new CacheEnv({ ZCCACHE_PATH_REMAP: "1", ...(based ? { ZCCACHE_BASE_DIR: top } : {}) });
      const rustc = path.join(CARGO_BIN as string, "rustc");
      const env = cargoEnv(c);
      // The crate's directory (the cwd) and where its data lives, in checkouts A and B.
      const crate = (t: string): string => (based ? path.join(top, t, "ws") : path.join(top, t));
      const data = (t: string): string => (based ? path.join(top, t, "assets", "data.txt") : path.join(top, t, "data.txt"));
      // A const's value is in the crate's metadata.
      const lib = `pub const DATA: &str = include_str!("${data("A")}");\n`;
      for (const t of ["A", "B"]) {
        fs.mkdirSync(path.join(crate(t), "src"), { recursive: true });
        fs.mkdirSync(path.join(crate(t), "out"));
        fs.mkdirSync(path.dirname(data(t)), { recursive: true });
        fs.writeFileSync(path.join(crate(t), "src/lib.rs"), lib);
        fs.writeFileSync(data(t), "zc-data-one");
      }
      // The crate root relative (cargo's spelling for a workspace member) and absolute.
      const cases = (d: string): string[][] =>
        [path.join("src", "lib.rs"), path.join(d, "src", "lib.rs")].map((root) => [
          rustc, "--crate-name", "lit", "--edition", "2021", root, "--crate-type", "lib",
          "--emit=dep-info,metadata,link", "--out-dir", "out", "-C", "opt-level=0",
        ]);
      const a = crate("A");
      const b = crate("B");
      for (const argv of cases(a)) {
        for (let i = 0; i < 2; i++) expect(run([ZCCACHE, ...argv], { cwd: a, env }).code).toBe(0);
      }
      fs.writeFileSync(data("A"), "zc-data-two");
      await sleepMs(2200);
      const served: string[] = [];
      for (const argv of cases(b)) {
        fs.rmSync(path.join(b, "out"), { recursive: true, force: true });
        fs.mkdirSync(path.join(b, "out"));
        expect(run([ZCCACHE, ...argv], { cwd: b, env }).code).toBe(0);
        const meta = fs.readFileSync(path.join(b, "out", "liblit.rmeta")).toString("latin1");
        served.push(meta.includes("zc-data-two") ? "two" : meta.includes("zc-data-one") ? "one" : "neither");
      }
      expect(served).toEqual(["two", "two"]);
    }, 120_000);
  }
});
