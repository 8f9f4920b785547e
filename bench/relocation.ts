// Relocation: one real CMake project (libuv) in two checkouts under one parent directory, built
// with that parent as the base dir: zccache with ZCCACHE_BASE_DIR, ccache with CCACHE_BASEDIR,
// each with a fresh cache, copy 1 then copy 2. Counts each tool's hits on copy 2 from its own
// statistics and compares every object and depfile of copy 2 with a bare build of copy 2.
import * as fs from "node:fs";
import * as path from "node:path";
import { backdate, type Bench, type Env, hitCount, sh } from "./harness.ts";

export interface RelocationTool {
  /** Compiles on copy 2 the tool counted as hits and as misses; `other`: uncacheable or errors. */
  hits: number;
  misses: number;
  other: number;
  /** Miss and uncacheable reasons on copy 2 as the tool names them ("" when it does not say). */
  reasons: string;
  /** Objects (and depfiles) of copy 2 byte-identical to the bare build of copy 2. */
  identical: number;
  depfilesIdentical: number;
}

export interface RelocationResult {
  project: string;
  layout: string;
  /** The two checkouts, relative to the base dir. */
  copies: [string, string];
  buildType: string;
  objects: number;
  /**
   * Objects of the bare build of copy 2 that contain copy 2's absolute path (assert()'s __FILE__
   * with CMake's absolute source paths, debug info): a tool whose objects equal bare must miss these.
   */
  namingCheckout: number;
  depfiles: number;
  zccache: RelocationTool;
  ccache: RelocationTool;
  seconds: number;
}

interface Layout {
  name: string;
  copies: [string, string];
}

/**
 * Different name lengths matter: gcc wraps depfile lines by column, so a depfile that is right
 * for one checkout is not just a string replacement away from the other.
 */
export const LAYOUTS: Layout[] = [
  { name: "different name lengths", copies: ["uv", "libuv-second-checkout"] },
  { name: "same name length, different parents", copies: ["one/libuv", "two/libuv"] },
];

/**
 * The cases measured, as [layout, build type]; "" is CMake's default build type (no
 * CMAKE_BUILD_TYPE: no -O, no -g, assert() live, so __FILE__ with the absolute source path is in
 * most objects). The second layout only in Release: a case costs about a minute on 2 idle cores.
 */
export const CASES: [Layout, string][] = [
  [LAYOUTS[0]!, ""],
  [LAYOUTS[0]!, "Release"],
  [LAYOUTS[1]!, "Release"],
];

/** Every file under dir whose name ends with suffix, by path relative to dir. */
export function snapshot(dir: string, suffix: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(suffix)) out.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

export function sameCount(ref: Map<string, Buffer>, got: Map<string, Buffer>): number {
  let n = 0;
  for (const [k, v] of ref) if (got.get(k)?.equals(v) === true) n++;
  return n;
}

/** Every file's times set into the past: zccache does not store inputs written in the last ~2 s. */
export function backdateTree(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) backdateTree(p);
    else if (e.isFile()) backdate(p);
  }
}

/** A fresh CMake build tree in copy/build, configured with `launcher` ("" for bare). */
export function cmakeConfigure(copy: string, buildType: string, launcher: string, env: Env): void {
  const build = path.join(copy, "build");
  fs.rmSync(build, { recursive: true, force: true });
  const args = ["cmake", "-S", copy, "-B", build, "-G", "Unix Makefiles", "-DBUILD_TESTING=OFF", "-DCMAKE_C_COMPILER=gcc"];
  if (buildType !== "") args.push(`-DCMAKE_BUILD_TYPE=${buildType}`);
  if (launcher !== "") args.push(`-DCMAKE_C_COMPILER_LAUNCHER=${launcher}`);
  const c = sh(args, env, copy);
  if (c.code !== 0) throw new Error(`cmake configure of ${copy} (${launcher || "bare"}) failed: ${c.err}`);
}

/** make -j2 in copy/build; the wall time of the build in milliseconds. */
export function cmakeMake(copy: string, env: Env): number {
  const started = performance.now();
  const m = sh(["make", "-s", "-j2", "-C", path.join(copy, "build")], env, copy);
  if (m.code !== 0) throw new Error(`build of ${copy} failed: ${m.err}`);
  return performance.now() - started;
}

/** A fresh CMake build tree in copy/build (configure not measured), then make -j2. */
function cmakeBuild(copy: string, buildType: string, launcher: string, env: Env): void {
  cmakeConfigure(copy, buildType, launcher, env);
  cmakeMake(copy, env);
}

/** A copy of the sources at dest (kept when it is there already), its files backdated. */
export function checkout(src: string, dest: string): void {
  if (fs.existsSync(dest)) return;
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  if (sh(["cp", "-a", src, dest]).code !== 0) throw new Error(`cannot copy ${src} to ${dest}`);
  backdateTree(dest);
}

interface ZccacheStatus {
  hits: number;
  misses: number;
  uncacheable: number;
  errors: number;
  reasons: Record<string, number>;
}

function zccacheStatus(b: Bench, env: Env): ZccacheStatus {
  const r = sh([b.zccache, "status", "--json"], env);
  if (r.code !== 0) throw new Error(`zccache status failed: ${r.err}`);
  return JSON.parse(r.out) as ZccacheStatus;
}

export function ccacheStat(env: Env, name: string): number {
  const m = new RegExp(`^${name}\\t(\\d+)$`, "m").exec(sh(["ccache", "--print-stats"], env).out);
  return Number(m?.[1] ?? 0);
}

function reasonDelta(before: Record<string, number>, after: Record<string, number>): string {
  return Object.entries(after)
    .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
    .filter(([, d]) => d > 0)
    .map(([k, d]) => `${k} ${d}`)
    .join(", ");
}

/**
 * One layout and build type. How the comparison stays sound: every build of copy 2 (bare, then
 * zccache, then ccache) happens in the same absolute source and build directories, each from a
 * freshly configured, empty build tree, so any path the compiler embeds is the same for all
 * three, and an object a tool failed to produce is missing, not left over. The bare build goes
 * first and its objects are kept in memory as the reference.
 */
function measureCase(b: Bench, src: string, project: string, root: string, layout: Layout, buildType: string): RelocationResult {
  const started = Date.now();
  const base = path.join(root, "base");
  const [c1, c2] = layout.copies.map((c) => path.join(base, c)) as [string, string];
  for (const c of [c1, c2]) checkout(src, c);
  // No tool's base-dir setting leaks into the others' builds from the caller's environment.
  const clean: Env = { ...b.env };
  delete clean.CCACHE_BASEDIR;
  delete clean.ZCCACHE_BASE_DIR;

  cmakeBuild(c2, buildType, "", clean);
  const refObjs = snapshot(path.join(c2, "build"), ".o");
  const refDeps = snapshot(path.join(c2, "build"), ".o.d");
  const compare = (tool: Omit<RelocationTool, "identical" | "depfilesIdentical">): RelocationTool => ({
    ...tool,
    identical: sameCount(refObjs, snapshot(path.join(c2, "build"), ".o")),
    depfilesIdentical: sameCount(refDeps, snapshot(path.join(c2, "build"), ".o.d")),
  });

  const zcDir = path.join(root, `zccache-${buildType || "default"}`);
  const zcEnv: Env = { ...clean, ZCCACHE_CACHE_DIR: zcDir, ZCCACHE_BASE_DIR: base };
  let zccache: RelocationTool;
  try {
    cmakeBuild(c1, buildType, b.zccache, zcEnv);
    const before = zccacheStatus(b, zcEnv);
    cmakeBuild(c2, buildType, b.zccache, zcEnv);
    const after = zccacheStatus(b, zcEnv);
    zccache = compare({
      hits: after.hits - before.hits,
      misses: after.misses - before.misses,
      other: after.uncacheable - before.uncacheable + after.errors - before.errors,
      reasons: reasonDelta(before.reasons, after.reasons),
    });
  } finally {
    sh([b.zccache, "stop"], zcEnv);
    fs.rmSync(zcDir, { recursive: true, force: true });
  }

  const ccDir = path.join(root, `ccache-${buildType || "default"}`);
  const ccEnv: Env = { ...clean, CCACHE_DIR: ccDir, CCACHE_BASEDIR: base };
  cmakeBuild(c1, buildType, "ccache", ccEnv);
  const ccBench = { ...b, env: ccEnv };
  const hitsBefore = hitCount(ccBench, "ccache");
  const missesBefore = ccacheStat(ccEnv, "cache_miss");
  cmakeBuild(c2, buildType, "ccache", ccEnv);
  const ccache = compare({
    hits: hitCount(ccBench, "ccache") - hitsBefore,
    misses: ccacheStat(ccEnv, "cache_miss") - missesBefore,
    other: 0,
    reasons: "",
  });
  fs.rmSync(ccDir, { recursive: true, force: true });

  return {
    project,
    layout: layout.name,
    copies: layout.copies,
    buildType: buildType || "default",
    objects: refObjs.size,
    namingCheckout: [...refObjs.values()].filter((o) => o.includes(`${c2}${path.sep}`)).length,
    depfiles: refDeps.size,
    zccache,
    ccache,
    seconds: (Date.now() - started) / 1000,
  };
}

/** The given cases in order; the copies live under root, which is removed afterwards. */
export function measureRelocation(
  b: Bench,
  sources: { dir: string; version: string },
  root: string,
  cases: [Layout, string][],
  progress: (what: string) => void,
): RelocationResult[] {
  const project = `libuv (CMake, Debian libuv1 ${sources.version} sources)`;
  const results: RelocationResult[] = [];
  try {
    for (const [layout, t] of cases) {
      // One tree of copies per layout, reused by its build types (each build starts from an empty build dir).
      const layoutRoot = path.join(root, `layout-${LAYOUTS.indexOf(layout)}`);
      progress(`relocation: ${layout.name} (${layout.copies.join(" vs ")}), build type ${t || "default"}`);
      results.push(measureCase(b, sources.dir, project, layoutRoot, layout, t));
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return results;
}
