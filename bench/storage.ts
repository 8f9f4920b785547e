// Storage: what compressed blobs cost and save, and what a restarted daemon costs.
//  1. Hit cost: the single-file warm hits with zccache at compression level 0 and level 1 (two
//     cache roots, two daemons), ccache (compressed by default, level 1) and ccache with
//     compression off, interleaved round by round so the machine's load hits them alike.
//  2. Store size: each project built once from a fresh cache with zccache level 1, level 0 and
//     ccache; zccache's `bytes` / `uncompressed_bytes` next to ccache's `-x` figures.
//  3. Restart: warm clean rebuilds (a cargo crate graph, and each C project) with the daemon up,
//     and right after `zccache stop`, so the daemon starts inside the build and finds the
//     toolchain fingerprints in its index; `toolchain_fingerprints_computed` is read after each.
import * as fs from "node:fs";
import * as path from "node:path";
import { type Bench, type Env, hitCount, hyperfine, sh, SINGLE_FILES } from "./harness.ts";
import type { Project } from "./projects.ts";
import type { Status } from "../tests/helpers.ts";
import { backdateTree, ccacheStat } from "./relocation.ts";

/** The four tools of the hit-cost table: two zccache cache roots, two ccache directories. */
export type HitTool = "zccache-l0" | "zccache-l1" | "ccache" | "ccache-uncompressed";
const HIT_TOOLS: HitTool[] = ["zccache-l0", "zccache-l1", "ccache", "ccache-uncompressed"];
/** hyperfine runs per tool and round (after its 3 warm-up runs). */
export const RUNS_PER_ROUND = 5;

export interface HitCostRow {
  case: string;
  tool: HitTool;
  /** Every measured run, milliseconds, over all rounds. */
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Hits the tool itself counted during the measured and warm-up runs, and how many runs there were. */
  hits: number;
  calls: number;
  /** The output equals the bare compiler's. */
  identical: boolean;
}

export interface ZccacheSize {
  level: number;
  bytes: number;
  uncompressedBytes: number;
  entries: number;
  misses: number;
  /** Every file of the cache directory but logs/ (index databases, blobs), the daemon stopped. */
  dirBytes: number;
  /** Of those, index.sqlite (manifests, file hashes) and history.sqlite (the compile history), with their -wal/-shm files. */
  indexBytes: number;
  historyBytes: number;
  /** The cold build's wall time, one build (not a comparison: one run each). */
  buildMs: number;
}

export interface CcacheSize {
  /** Sum of the sizes of ccache's result and manifest files (what `-x` calls compressed data). */
  bytes: number;
  /** `-x`'s "Original size", derived from the exact compressed bytes and its 3-decimal ratio. */
  originalBytes: number;
  ratio: number;
  files: number;
  misses: number;
  /** Every file of the cache directory (entries, stats files). */
  dirBytes: number;
  buildMs: number;
}

export interface SizeRow {
  project: string;
  /** The object files the build left, and their summed size (what the caches hold, before overhead). */
  objects: number;
  objectBytes: number;
  level1: ZccacheSize;
  level0: ZccacheSize;
  ccache: CcacheSize;
}

export interface RestartRun {
  ms: number;
  hits: number;
  compiles: number;
  /** toolchain_fingerprints_computed during the build (the restarted daemon's whole count). */
  fingerprints: number;
}

export interface RestartRow {
  project: string;
  /** The cold build that filled the cache: fingerprints its fresh daemon computed. */
  primeFingerprints: number;
  up: RestartRun[];
  restarted: RestartRun[];
}

export interface StorageResult {
  hitCost: HitCostRow[];
  sizes: SizeRow[];
  restart: RestartRow[];
  rounds: number;
  seconds: number;
}

/** `zccache status --json`, with the store fields this section reads. */
type ZccacheStatus = Status & {
  uncompressed_bytes: number;
  compression_level: number;
  toolchain_fingerprints_computed: number;
};

function zccacheStatus(b: Bench, env: Env): ZccacheStatus {
  const r = sh([b.zccache, "status", "--json"], env);
  if (r.code !== 0) throw new Error(`zccache status failed: ${r.err}`);
  return JSON.parse(r.out) as ZccacheStatus;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, c) => a - c);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? 0 : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** An environment with only this tool's cache root and compression setting. */
function toolEnv(b: Bench, tool: HitTool, root: string): Env {
  const e: Env = { ...b.env };
  for (const k of ["ZCCACHE_COMPRESSION_LEVEL", "CCACHE_COMPRESS", "CCACHE_NOCOMPRESS", "CCACHE_COMPRESSLEVEL", "ZCCACHE_REMOTE_STORAGE", "CCACHE_REMOTE_STORAGE"]) {
    delete e[k];
  }
  const dir = path.join(root, tool);
  if (tool === "zccache-l0" || tool === "zccache-l1") return { ...e, ZCCACHE_CACHE_DIR: dir, ZCCACHE_COMPRESSION_LEVEL: tool === "zccache-l0" ? "0" : "1" };
  return { ...e, CCACHE_DIR: dir, ...(tool === "ccache-uncompressed" ? { CCACHE_NOCOMPRESS: "1" } : {}) };
}

const isZccache = (tool: HitTool): boolean => tool.startsWith("zccache");

function hits(b: Bench, tool: HitTool, env: Env): number {
  return isZccache(tool) ? zccacheStatus(b, env).hits : hitCount({ ...b, env }, "ccache");
}

/** Part 1: `rounds` rounds, each tool measured once per round, the starting tool rotating. */
function measureHitCost(b: Bench, root: string, rounds: number, progress: (what: string) => void): HitCostRow[] {
  const rows: HitCostRow[] = [];
  const dir = path.join(root, "single");
  fs.mkdirSync(dir, { recursive: true });
  const caches = path.join(root, "hit-cost");
  const envs = new Map(HIT_TOOLS.map((t) => [t, toolEnv(b, t, caches)]));
  try {
    for (const [name, s] of Object.entries(SINGLE_FILES)) {
      progress(`storage: hit cost, ${name}`);
      const src = path.join(dir, s.file);
      fs.writeFileSync(src, s.text);
      fs.utimesSync(src, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
      const compile = (out: string): string => `${s.compiler} -O2 -c ${s.file} -o ${out}`;
      if (sh(["sh", "-c", compile("bare.o")], b.env, dir).code !== 0) throw new Error(`bare compile of ${name} failed`);
      const reference = fs.readFileSync(path.join(dir, "bare.o"));
      const cmd = (t: HitTool): string => `${isZccache(t) ? b.zccache : "ccache"} ${compile(`${t}.o`)}`;
      const times = new Map<HitTool, number[]>(HIT_TOOLS.map((t) => [t, []]));
      const before = new Map<HitTool, number>();
      for (const t of HIT_TOOLS) {
        const env = envs.get(t)!;
        if (sh(["sh", "-c", cmd(t)], env, dir).code !== 0) throw new Error(`${t} compile of ${name} failed`);
        before.set(t, hits(b, t, env));
      }
      for (let r = 0; r < rounds; r++) {
        for (let k = 0; k < HIT_TOOLS.length; k++) {
          const t = HIT_TOOLS[(k + r) % HIT_TOOLS.length]!;
          times.get(t)!.push(...hyperfine(b, cmd(t), { runs: RUNS_PER_ROUND, cwd: dir, env: envs.get(t)! }).times);
        }
      }
      for (const t of HIT_TOOLS) {
        const ts = times.get(t)!;
        rows.push({
          case: name,
          tool: t,
          runs: ts.length,
          medianMs: median(ts),
          minMs: Math.min(...ts),
          maxMs: Math.max(...ts),
          hits: hits(b, t, envs.get(t)!) - before.get(t)!,
          calls: rounds * (RUNS_PER_ROUND + 3),
          identical: fs.readFileSync(path.join(dir, `${t}.o`)).equals(reference),
        });
      }
    }
  } finally {
    for (const t of HIT_TOOLS) if (isZccache(t)) sh([b.zccache, "stop"], envs.get(t)!);
    fs.rmSync(caches, { recursive: true, force: true });
  }
  return rows;
}

/** ccache's result and manifest files under dir: their count and summed size. */
function ccacheFiles(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/[RM]$/.test(e.name) && e.name.length > 20) {
        files++;
        bytes += fs.statSync(p).size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}

/** The summed size of every file under dir, skipping directories named in skip. */
function treeBytes(dir: string, skip: string[] = []): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += skip.includes(e.name) ? 0 : treeBytes(p, skip);
    else if (e.isFile()) n += fs.statSync(p).size;
  }
  return n;
}

const timed = (run: () => { code: number; err: string }, what: string): number => {
  const t = performance.now();
  const r = run();
  if (r.code !== 0) throw new Error(`${what} failed: ${r.err}`);
  return performance.now() - t;
};

/**
 * Parts 2 and 3 for one project: cold builds with zccache level 1, level 0 and ccache, each from
 * a fresh cache; after the level-1 build, `runs` interleaved warm rebuilds with the daemon up and
 * right after `zccache stop`. Plain `ar` for every tool: zccache caches nothing ccache does not.
 */
function measureProject(b: Bench, p: Project, root: string, runs: number, progress: (what: string) => void): { size: SizeRow; restart: RestartRow } {
  const run = (cmd: string, env: Env): ReturnType<typeof sh> => sh(["sh", "-c", cmd], env, p.dir);
  const sizes: Partial<Record<"level1" | "level0", ZccacheSize>> = {};
  let restart: RestartRow | null = null;
  let ccache: CcacheSize | null = null;
  for (const tool of ["zccache-l1", "zccache-l0", "ccache"] as const) {
    progress(`storage: ${p.name}, cold build with ${tool}`);
    const env = toolEnv(b, tool, root);
    const launcher = isZccache(tool) ? b.zccache : "ccache";
    try {
      if (p.configure !== undefined) {
        const c = run(p.configure(launcher), env);
        if (c.code !== 0) throw new Error(`configuring ${p.name} for ${tool} failed: ${c.err}`);
      }
      run(p.clean, env);
      const build = p.build(`${launcher} gcc`, "ar");
      const buildMs = timed(() => run(build, env), `${tool} build of ${p.name}`);
      if (isZccache(tool)) {
        const s = zccacheStatus(b, env);
        const level = tool === "zccache-l1" ? "level1" : "level0";
        if (tool === "zccache-l1") restart = measureRestart(b, p.name, s.toolchain_fingerprints_computed, env, runs, progress, () => run(p.clean, env), () => run(build, env));
        sh([b.zccache, "stop"], env);
        const dir = env.ZCCACHE_CACHE_DIR!;
        const dbBytes = (name: string): number =>
          fs.readdirSync(dir).filter((f) => f.startsWith(name)).reduce((a, f) => a + fs.statSync(path.join(dir, f)).size, 0);
        sizes[level] = {
          level: s.compression_level,
          bytes: s.bytes,
          uncompressedBytes: s.uncompressed_bytes,
          entries: s.entries,
          misses: s.misses,
          dirBytes: treeBytes(dir, ["logs"]),
          indexBytes: dbBytes("index.sqlite"),
          historyBytes: dbBytes("history.sqlite"),
          buildMs,
        };
      } else {
        const f = ccacheFiles(env.CCACHE_DIR!);
        const x = sh(["ccache", "-x"], env).out;
        const ratio = Number(/Compression ratio:\s+([\d.]+)/.exec(x)?.[1] ?? "0");
        const dirBytes = treeBytes(env.CCACHE_DIR!);
        ccache = { bytes: f.bytes, originalBytes: Math.round(f.bytes * ratio), ratio, files: f.files, misses: ccacheStat(env, "cache_miss"), dirBytes, buildMs };
      }
    } finally {
      if (isZccache(tool)) sh([b.zccache, "stop"], env);
      fs.rmSync(path.join(root, tool), { recursive: true, force: true });
    }
  }
  const objects = p.objects();
  const objectBytes = objects.reduce((a, f) => a + fs.statSync(f).size, 0);
  return { size: { project: p.name, objects: objects.length, objectBytes, level1: sizes.level1!, level0: sizes.level0!, ccache: ccache! }, restart: restart! };
}

/**
 * Part 3 for one warm cache: `runs` rounds of a clean rebuild with the daemon up, then one right
 * after `zccache stop` (its daemon starts inside the build; its counters start at 0).
 */
function measureRestart(
  b: Bench,
  project: string,
  primeFingerprints: number,
  env: Env,
  runs: number,
  progress: (what: string) => void,
  clean: () => { code: number; err: string },
  build: () => { code: number; err: string },
): RestartRow {
  const row: RestartRow = { project, primeFingerprints, up: [], restarted: [] };
  const compiles = (s: ZccacheStatus): number => s.hits + s.misses + s.uncacheable + s.errors;
  for (let i = 0; i < runs; i++) {
    progress(`storage: ${project}, warm rebuild ${i + 1}/${runs}, daemon up and restarted`);
    clean();
    const a = zccacheStatus(b, env);
    const upMs = timed(build, `warm rebuild of ${project}`);
    const z = zccacheStatus(b, env);
    row.up.push({ ms: upMs, hits: z.hits - a.hits, compiles: compiles(z) - compiles(a), fingerprints: z.toolchain_fingerprints_computed - a.toolchain_fingerprints_computed });
    clean();
    // The counters (not toolchain_fingerprints_computed) are persisted at shutdown and carry on.
    if (sh([b.zccache, "stop"], env).code !== 0) throw new Error("zccache stop failed");
    const restartedMs = timed(build, `warm rebuild of ${project} after zccache stop`);
    const r = zccacheStatus(b, env);
    row.restarted.push({ ms: restartedMs, hits: r.hits - z.hits, compiles: compiles(r) - compiles(z), fingerprints: r.toolchain_fingerprints_computed });
  }
  return row;
}

/** A cargo crate graph to build through RUSTC_WRAPPER=zccache: where it is and its environment. */
export interface CargoProject {
  name: string;
  dir: string;
  cargo: string;
  env: Env;
}

/**
 * The whole section. Projects are built in their own directories under root, which is removed
 * at the end; every daemon started is stopped.
 */
export function measureStorage(
  b: Bench,
  root: string,
  projects: Project[],
  cargoProject: CargoProject | null,
  o: { rounds: number; runs: number },
  progress: (what: string) => void,
): StorageResult {
  const started = Date.now();
  try {
    const hitCost = measureHitCost(b, root, o.rounds, progress);
    const sizes: SizeRow[] = [];
    const restart: RestartRow[] = [];
    // zccache does not store inputs written in the last ~2 s.
    for (const p of projects) backdateTree(p.dir);
    for (const p of projects) {
      const r = measureProject(b, p, root, o.runs, progress);
      sizes.push(r.size);
      restart.push(r.restart);
    }
    if (cargoProject !== null) {
      const c = cargoProject;
      const env: Env = { ...c.env, ZCCACHE_CACHE_DIR: path.join(root, "cargo-zccache"), RUSTC_WRAPPER: b.zccache };
      delete env.ZCCACHE_COMPRESSION_LEVEL;
      const cargo = (args: string[]): { code: number; err: string } => sh([c.cargo, ...args], env, c.dir);
      try {
        progress(`storage: ${c.name}, cold cargo build`);
        cargo(["clean", "-q"]);
        timed(() => cargo(["build", "--offline", "-q"]), `cargo build of ${c.name}`);
        const prime = zccacheStatus(b, env).toolchain_fingerprints_computed;
        restart.push(
          measureRestart(
            b,
            c.name,
            prime,
            env,
            o.runs,
            progress,
            () => cargo(["clean", "-q"]),
            () => cargo(["build", "--offline", "-q"]),
          ),
        );
      } finally {
        sh([b.zccache, "stop"], env);
      }
    }
    return { hitCost, sizes, restart, rounds: o.rounds, seconds: (Date.now() - started) / 1000 };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
