// Emscripten through the cache: emcc/em++ compiles (counted as C/C++), emcc links that
// write app.js and app.wasm (both restored byte for byte on a hit, and node runs the result),
// and wasm-ld called directly. Skips itself when emcc is not installed.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, requireTool, type RunResult, run, sleepMs, type Status, tempDir } from "../helpers.ts";
import { expectSameBytes, readOrNull, sameAsBare } from "../assertions.ts";

const HAVE_EMCC = requireTool("emcc", "the Emscripten suite is") && requireTool("node", "the Emscripten suite is");

/**
 * A writable EM_CACHE: Debian's emscripten ships a prebuilt, frozen cache; a private
 * directory of links to its entries gives emcc a cache root of its own to lock and write.
 */
function privateEmCache(): string {
  const dir = tempDir("zc-emcache-");
  const r = run(["em-config", "CACHE"], { env: { ...process.env, EM_CACHE: undefined } });
  const shipped = r.out.trim();
  if (r.code === 0 && shipped !== "" && fs.existsSync(shipped)) {
    for (const name of fs.readdirSync(shipped)) {
      if (name.endsWith(".lock")) continue;
      fs.symlinkSync(path.join(shipped, name), path.join(dir, name));
    }
  }
  return dir;
}

const emEnv: Record<string, string> = HAVE_EMCC ? { EM_CACHE: privateEmCache(), NODE_PATH: "/usr/share/nodejs" } : {};
const env = new CacheEnv(emEnv);
afterAll(() => CacheEnv.stopAll());

// ---- local helpers (this file only) ----

interface Delta {
  hits: number;
  misses: number;
  uncacheable: number;
  errors: number;
  reasons: Record<string, number>;
  languages: Record<string, Record<string, number>>;
}

function diffCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = (b[k] ?? 0) - (a[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

function diff(a: Status, b: Status): Delta {
  const languages: Record<string, Record<string, number>> = {};
  for (const lang of new Set([...Object.keys(a.languages), ...Object.keys(b.languages)])) {
    const d = diffCounts(a.languages[lang] ?? {}, b.languages[lang] ?? {});
    if (Object.keys(d).length > 0) languages[lang] = d;
  }
  return {
    hits: b.hits - a.hits,
    misses: b.misses - a.misses,
    uncacheable: b.uncacheable - a.uncacheable,
    errors: b.errors - a.errors,
    reasons: diffCounts(a.reasons, b.reasons),
    languages,
  };
}

function zcMeasured(args: readonly string[], cwd: string, extraEnv: Record<string, string> = {}): { r: RunResult; d: Delta } {
  const before = env.status();
  const r = env.zc(args, { cwd, env: extraEnv });
  return { r, d: diff(before, env.status()) };
}

type Counts = Omit<Delta, "languages">;

function counts(d: Delta): Counts {
  return { hits: d.hits, misses: d.misses, uncacheable: d.uncacheable, errors: d.errors, reasons: d.reasons };
}

const MISS: Counts = { hits: 0, misses: 1, uncacheable: 0, errors: 0, reasons: { "new-source": 1 } };
const HIT: Counts = { hits: 1, misses: 0, uncacheable: 0, errors: 0, reasons: {} };

function scenario(name: string): string {
  const d = path.join(env.work, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

function bareIn(argv: readonly string[], dir: string): RunResult {
  const r = bare(argv, dir, env.env);
  if (r.code !== 0) throw new Error(`${argv.join(" ")}: ${r.err}`);
  return r;
}

/**
 * Bare run, then a miss and a hit through zccache; every file in `outputs` is the same
 * bytes all three times. Returns the bare outputs.
 */
function missThenHit(dir: string, argv: readonly string[], outputs: readonly string[], lang: string, missCounts = MISS): Buffer[] {
  const paths = outputs.map((o) => path.join(dir, o));
  const clear = () => {
    for (const p of paths) fs.rmSync(p, { force: true });
  };
  clear();
  const b = bareIn(argv, dir);
  const bareBytes = paths.map((p) => readOrNull(p));
  clear();
  const miss = zcMeasured(argv, dir);
  expect({ argv, ...counts(miss.d) }).toEqual({ argv, ...missCounts });
  expect(miss.d.languages).toEqual({ [lang]: { misses: 1 } });
  paths.forEach((p, i) => expectSameBytes(readOrNull(p), bareBytes[i] ?? null, `${outputs[i]} (miss)`));
  clear();
  const hit = zcMeasured(argv, dir);
  expect({ argv, ...counts(hit.d) }).toEqual({ argv, ...HIT });
  expect(hit.d.languages).toEqual({ [lang]: { hits: 1 } });
  expect({ code: hit.r.code, out: hit.r.out, err: hit.r.err }).toEqual({ code: b.code, out: b.out, err: b.err });
  paths.forEach((p, i) => expectSameBytes(readOrNull(p), bareBytes[i] ?? null, `${outputs[i]} (hit)`));
  return bareBytes as Buffer[];
}

function writeProject(dir: string, addend: number): void {
  fs.writeFileSync(path.join(dir, "main.c"), '#include <stdio.h>\nint add(int, int);\nint main(void) { printf("sum=%d\\n", add(2, 3)); return 0; }\n');
  fs.writeFileSync(path.join(dir, "add.c"), `int add(int a, int b) { return a + b + ${addend}; }\n`);
  fs.writeFileSync(path.join(dir, "mul.cpp"), "#include <vector>\nint mul(int a) { std::vector<int> v(3, a); return v[0] * v[2]; }\n");
}

// ---- suites ----

describe.skipIf(!HAVE_EMCC)("emcc", () => {
  test("emcc -c and em++ -c: miss, then a hit identical to a bare compile (counted as C / C++)", () => {
    const dir = scenario("compile");
    writeProject(dir, 0);
    missThenHit(dir, ["emcc", "-O1", "-c", "main.c", "-o", "main.o"], ["main.o"], "c");
    missThenHit(dir, ["em++", "-c", "mul.cpp", "-o", "mul.o"], ["mul.o"], "c++");
    // emcc settings in both spellings are part of the key.
    missThenHit(dir, ["emcc", "-c", "add.c", "-sSTRICT=1", "-o", "add.o"], ["add.o"], "c");
    // EMCC_CFLAGS adds arguments: another result.
    const other = zcMeasured(["emcc", "-c", "add.c", "-sSTRICT=1", "-o", "add.o"], dir, { EMCC_CFLAGS: "-O2" });
    expect(counts(other.d)).toEqual(MISS);
  });

  test("what emcc's environment names: a wrapper, its log, added flags, another configuration file and the clang it names", async () => {
    const dir = scenario("environment");
    fs.writeFileSync(path.join(dir, "v.c"), "#ifndef V\n#define V 0\n#endif\nint v(void) { return V; }\n");
    const script = (name: string, v: number): string => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, `#!/bin/sh\nexec /usr/bin/clang-14 "$@" -DV=${v}\n`, { mode: 0o755 });
      return p;
    };
    const wrap = path.join(dir, "wrap.sh");
    fs.writeFileSync(wrap, '#!/bin/sh\nexec "$@" -DV=7\n', { mode: 0o755 });
    const argv = ["emcc", "-O1", "-c", "v.c", "-o", "v.o"];
    /** A bare compile and one through zccache under `extra` (sameAsBare); our counts. */
    const compare = (extra: Record<string, string>): Counts =>
      sameAsBare({ dir, argv, output: "v.o", env: env.env, extra }, () => {
        const z = zcMeasured(argv, dir, extra);
        return { r: z.r, value: counts(z.d) };
      });
    const uncached = { hits: 0, misses: 0, uncacheable: 1, errors: 0, reasons: { "too-hard": 1 } };
    await sleepMs(2200);
    const plain = missThenHit(dir, argv, ["v.o"], "c")[0];
    // A wrapper around every clang run, its logging, flags our decisions cannot see: uncached.
    expect(compare({ EM_COMPILER_WRAPPER: wrap })).toEqual(uncached);
    expect(readOrNull(path.join(dir, "v.o"))?.equals(plain as Buffer)).toBe(false);
    expect(compare({ EMCC_CFLAGS: "-Iinc" })).toEqual(uncached);
    expect(zcMeasured(argv, dir, { EMCC_DEBUG: "1", EMCC_TEMP_DIR: tempDir("zc-emdebug-") }).d.uncacheable).toBe(1);
    // Off as emcc reads it ("0"): cached, under its own key (emcc's file packager reads it as on).
    expect(compare({ EMCC_DEBUG: "0" })).toEqual(MISS);
    expect(compare({ EMCC_DEBUG: "0" })).toEqual(HIT);

    // A configuration file of ours whose LLVM_ROOT is a directory of ours.
    const tools = path.join(dir, "tools");
    fs.mkdirSync(tools);
    for (const name of ["clang-14", "clang++-14"]) fs.symlinkSync(`/usr/bin/${name}`, path.join(tools, name));
    /** The clang in `tools` replaced by one adding -DV=v, out of the racy window. */
    const replaceClang = async (v: number): Promise<void> => {
      fs.rmSync(path.join(tools, "clang-14"));
      fs.renameSync(script("clang-14.new", v), path.join(tools, "clang-14"));
      await sleepMs(2200);
    };
    const root = path.dirname(fs.realpathSync(Bun.which("emcc") as string));
    const config = path.join(dir, "em-config");
    const rootConfig = fs.readFileSync(path.join(root, ".emscripten"), "utf8");
    fs.writeFileSync(config, `${rootConfig}\nLLVM_ROOT = '${tools}'\n`);
    await sleepMs(2200);
    expect(compare({ EM_CONFIG: config })).toEqual(MISS);
    expect(compare({ EM_CONFIG: config })).toEqual(HIT);
    // The clang it names replaced: the same file names, another compiler.
    await replaceClang(5);
    expect(compare({ EM_CONFIG: config }).hits).toBe(0);
    // The file edited: it now names a wrapper (uncached), then the installation's clang again.
    fs.writeFileSync(config, `${rootConfig}\nLLVM_ROOT = '${tools}'\nCOMPILER_WRAPPER = '${wrap}'\n`);
    await sleepMs(2200);
    expect(compare({ EM_CONFIG: config })).toEqual(uncached);
    fs.writeFileSync(config, rootConfig);
    await sleepMs(2200);
    expect(compare({ EM_CONFIG: config }).hits).toBe(0);
    expect(readOrNull(path.join(dir, "v.o"))?.equals(plain as Buffer)).toBe(true);
    // An override of one setting: EM_LLVM_ROOT's clang is the one that counts.
    expect(compare({ EM_LLVM_ROOT: tools }).hits).toBe(0);
    expect(compare({ EM_LLVM_ROOT: tools })).toEqual(HIT);
    await replaceClang(6);
    expect(compare({ EM_LLVM_ROOT: tools }).hits).toBe(0);
    // ~ in a setting is HOME's, as emcc expands it in the paths of its tools.
    const home = tempDir("zc-emhome-");
    fs.symlinkSync(tools, path.join(home, "llvm"));
    expect(compare({ HOME: home, EM_LLVM_ROOT: "~/llvm" }).hits).toBe(0);
    expect(compare({ HOME: home, EM_LLVM_ROOT: "~/llvm" })).toEqual(HIT);
    await replaceClang(8);
    expect(compare({ HOME: home, EM_LLVM_ROOT: "~/llvm" }).hits).toBe(0);
    // emsdk's configuration names its tools from its own directory.
    const emsdk = path.join(dir, "emsdk");
    fs.mkdirSync(emsdk);
    fs.symlinkSync(tools, path.join(emsdk, "upstream-bin"));
    const emsdkConfig = path.join(emsdk, ".emscripten");
    fs.writeFileSync(emsdkConfig, `${rootConfig}\nimport os\nemsdk_path = os.path.dirname(os.getenv('EM_CONFIG')).replace('\\\\', '/')\nLLVM_ROOT = emsdk_path + '/upstream-bin'\n`);
    await sleepMs(2200);
    expect(compare({ EM_CONFIG: emsdkConfig }).hits).toBe(0);
    expect(compare({ EM_CONFIG: emsdkConfig })).toEqual(HIT);
    await replaceClang(9);
    expect(compare({ EM_CONFIG: emsdkConfig }).hits).toBe(0);
    // Computed any other way, a setting naming a program cannot be followed: uncached.
    fs.writeFileSync(config, `${rootConfig}\nimport os\nLLVM_ROOT = os.path.join('${tools}')\n`);
    await sleepMs(2200);
    expect(compare({ EM_CONFIG: config })).toEqual(uncached);
  });

  test("emcc link: app.js and app.wasm restored byte-identical, node prints the same", () => {
    const dir = scenario("link");
    writeProject(dir, 0);
    for (const f of ["main", "add"]) bareIn(["emcc", "-c", `${f}.c`, "-o", `${f}.o`], dir);
    const argv = ["emcc", "main.o", "add.o", "-sWASM_ASYNC_COMPILATION=0", "-o", "app.js"];
    missThenHit(dir, argv, ["app.js", "app.wasm"], "link");
    expect(run(["node", "app.js"], { cwd: dir }).out).toBe("sum=5\n");
    // Only the .js is gone: the hit brings both back.
    fs.rmSync(path.join(dir, "app.wasm"));
    expect(counts(zcMeasured(argv, dir).d)).toEqual(HIT);
    expect(run(["node", "app.js"], { cwd: dir }).out).toBe("sum=5\n");

    // A changed object misses, and the new program runs.
    writeProject(dir, 10);
    bareIn(["emcc", "-c", "add.c", "-o", "add.o"], dir);
    missThenHit(dir, argv, ["app.js", "app.wasm"], "link", MISS);
    expect(run(["node", "app.js"], { cwd: dir }).out).toBe("sum=15\n");
  });

  test("optimised emcc link with --pre-js: the JS file is an input", () => {
    const dir = scenario("optimised");
    writeProject(dir, 0);
    for (const f of ["main", "add"]) bareIn(["emcc", "-O2", "-c", `${f}.c`, "-o", `${f}.o`], dir);
    fs.writeFileSync(path.join(dir, "pre.js"), "console.log('pre one');\n");
    const argv = ["emcc", "-O2", "main.o", "add.o", "--pre-js", "pre.js", "-sWASM_ASYNC_COMPILATION=0", "-o", "opt.js"];
    missThenHit(dir, argv, ["opt.js", "opt.wasm"], "link");
    expect(run(["node", "opt.js"], { cwd: dir }).out).toBe("pre one\nsum=5\n");
    fs.writeFileSync(path.join(dir, "pre.js"), "console.log('pre two');\n");
    missThenHit(dir, argv, ["opt.js", "opt.wasm"], "link", MISS);
    expect(run(["node", "opt.js"], { cwd: dir }).out).toBe("pre two\nsum=5\n");
  });

  test("wasm-ld called directly", () => {
    if (!requireTool("wasm-ld", "this test is")) return;
    const dir = scenario("wasm-ld");
    writeProject(dir, 0);
    bareIn(["emcc", "-c", "add.c", "-o", "add.o"], dir);
    const argv = ["wasm-ld", "--no-entry", "--export-all", "add.o", "-o", "add.wasm"];
    const first = missThenHit(dir, argv, ["add.wasm"], "link");
    writeProject(dir, 1);
    bareIn(["emcc", "-c", "add.c", "-o", "add.o"], dir);
    const second = missThenHit(dir, argv, ["add.wasm"], "link", MISS);
    expect(second[0]?.equals(first[0] as Buffer)).toBe(false);
    // The same inputs again: the entry for them is still there.
    writeProject(dir, 0);
    bareIn(["emcc", "-c", "add.c", "-o", "add.o"], dir);
    expect(counts(zcMeasured(argv, dir).d)).toEqual(HIT);
    expectSameBytes(readOrNull(path.join(dir, "add.wasm")), first[0] ?? null, "add.wasm (hit after going back)");
  });
});
