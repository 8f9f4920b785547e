// Remote storage: a second machine building a real CMake project (libuv) from a Redis server a
// first machine filled. One redis-server on 127.0.0.1 holds both tools' data (zccache's keys
// start with "zccache:", ccache's with "ccache:"). Machine one builds checkout 1 with a fresh
// cache and the remote; machine two builds checkout 2, elsewhere under the same base dir, with
// another fresh cache each run and the same remote: that build is the one timed. Hits are counted
// from each tool's own statistics, and every object is compared with a bare build of checkout 2.
import * as fs from "node:fs";
import * as path from "node:path";
import { startRedis } from "../tests/fixtures/servers.ts";
import { type Bench, type Env, sh } from "./harness.ts";
import { ccacheStat, checkout, cmakeConfigure, cmakeMake, LAYOUTS, sameCount, snapshot } from "./relocation.ts";

/**
 * "zccache" starts its daemon within the timed build, as a fresh machine would;
 * "zccache-daemon-up" is the same with the daemon started (`zccache start`) before it.
 */
export type RemoteTool = "bare" | "ccache" | "zccache" | "zccache-daemon-up";
const ORDER: RemoteTool[] = ["bare", "ccache", "zccache", "zccache-daemon-up"];
const BUILD_TYPE = "Release";
/** How long machine one's daemon may take to write its entries to the remote. */
const WRITES_DEADLINE_MS = 120_000;
const POLL_MS = 250;

export interface RemoteToolResult {
  tool: RemoteTool;
  /** Machine two's make -j2 per run, milliseconds (configure not included). */
  runsMs: number[];
  medianMs: number;
  /** Per run, as the tool's own statistics count them on machine two. */
  compiles: number[];
  remoteHits: number[];
  /** Hits of any kind (remote or local; with an empty local cache, remote ones). */
  hits: number[];
  misses: number[];
  /** Remote read errors and timeouts on machine two, summed over the runs. */
  remoteErrors: number;
  /** Objects of each run byte-identical to the first bare build of checkout 2. */
  identical: number[];
  /** Machine one's make -j2 that filled the remote (0 for bare). */
  fillMs: number;
  /** Keys under the tool's prefix on the Redis server after machine one. */
  remoteKeys: number;
}

export interface RemoteResult {
  project: string;
  copies: [string, string];
  buildType: string;
  objects: number;
  runs: number;
  tools: RemoteToolResult[];
  seconds: number;
}

interface ZccacheStatus {
  hits: number;
  remote_hits: number;
  misses: number;
  uncacheable: number;
  errors: number;
  remote_queue: number;
  remote_storage: { writes: number; errors: number; timeouts: number; dropped: number; hits: number }[];
}

function zccacheStatus(b: Bench, env: Env): ZccacheStatus {
  const r = sh([b.zccache, "status", "--json"], env);
  if (r.code !== 0) throw new Error(`zccache status failed: ${r.err}`);
  return JSON.parse(r.out) as ZccacheStatus;
}

/** What one tool counted during one build. */
interface Counted {
  compiles: number;
  hits: number;
  remoteHits: number;
  misses: number;
  remoteErrors: number;
}

const NOTHING: Counted = { compiles: 0, hits: 0, remoteHits: 0, misses: 0, remoteErrors: 0 };

const isZccache = (tool: RemoteTool): boolean => tool === "zccache" || tool === "zccache-daemon-up";

function counted(b: Bench, tool: RemoteTool, env: Env): Counted {
  if (tool === "bare") return NOTHING;
  if (isZccache(tool)) {
    const s = zccacheStatus(b, env);
    return {
      compiles: s.hits + s.misses + s.uncacheable + s.errors,
      hits: s.hits,
      remoteHits: s.remote_hits,
      misses: s.misses,
      remoteErrors: s.remote_storage.reduce((a, r) => a + r.errors + r.timeouts, 0),
    };
  }
  const stat = (name: string): number => ccacheStat(env, name);
  const hits = stat("direct_cache_hit") + stat("preprocessed_cache_hit");
  return {
    compiles: hits + stat("cache_miss"),
    hits,
    remoteHits: stat("remote_storage_hit"),
    misses: stat("cache_miss"),
    remoteErrors: stat("remote_storage_error") + stat("remote_storage_timeout"),
  };
}

const minus = (a: Counted, b: Counted): Counted => ({
  compiles: a.compiles - b.compiles,
  hits: a.hits - b.hits,
  remoteHits: a.remoteHits - b.remoteHits,
  misses: a.misses - b.misses,
  remoteErrors: a.remoteErrors - b.remoteErrors,
});

/** Polls until machine one's daemon has no queued writes and its counters stopped moving. */
async function waitForWrites(b: Bench, env: Env): Promise<void> {
  const deadline = Date.now() + WRITES_DEADLINE_MS;
  let last = "";
  let still = 0;
  for (;;) {
    const s = zccacheStatus(b, env);
    const now = JSON.stringify(s.remote_storage.map((r) => [r.writes, r.errors, r.timeouts, r.dropped]));
    still = s.remote_queue === 0 && now === last ? still + 1 : 0;
    last = now;
    // Stable over four polls (a write in flight is out of the queue but not counted yet).
    if (still >= 4) return;
    if (Date.now() >= deadline) throw new Error(`machine one's writes to the remote did not settle within ${WRITES_DEADLINE_MS} ms: ${now}`);
    await Bun.sleep(POLL_MS);
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, c) => a - c);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * The whole section: `runs` timed builds of checkout 2 per tool, the tools interleaved run by
 * run (bare first: its first build is the reference). Everything lives under root, removed at
 * the end; the Redis server is stopped.
 */
export async function measureRemote(
  b: Bench,
  sources: { dir: string; version: string },
  root: string,
  runs: number,
  progress: (what: string) => void,
): Promise<RemoteResult> {
  const started = Date.now();
  const layout = LAYOUTS[0]!;
  const base = path.join(root, "base");
  const [c1, c2] = layout.copies.map((c) => path.join(base, c)) as [string, string];
  const redis = await startRedis();
  try {
    for (const c of [c1, c2]) checkout(sources.dir, c);
    // No remote or base-dir setting leaks in from the caller's environment.
    const clean: Env = { ...b.env };
    for (const k of ["CCACHE_BASEDIR", "CCACHE_REMOTE_STORAGE", "CCACHE_REMOTE_ONLY", "CCACHE_RESHARE", "CCACHE_NAMESPACE", "ZCCACHE_BASE_DIR", "ZCCACHE_REMOTE_STORAGE"]) {
      delete clean[k];
    }
    const envFor = (tool: RemoteTool, cacheDir: string): Env => {
      if (isZccache(tool)) return { ...clean, ZCCACHE_CACHE_DIR: cacheDir, ZCCACHE_REMOTE_STORAGE: redis.url, ZCCACHE_BASE_DIR: base };
      // Release has no -g, so the hashed directory does not matter; NOHASHDIR keeps it so anyway.
      if (tool === "ccache") return { ...clean, CCACHE_DIR: cacheDir, CCACHE_REMOTE_STORAGE: redis.url, CCACHE_BASEDIR: base, CCACHE_NOHASHDIR: "1" };
      return clean;
    };
    const launcher = (tool: RemoteTool): string => (tool === "bare" ? "" : isZccache(tool) ? b.zccache : "ccache");
    const keys = async (pattern: string): Promise<number> =>
      Number((await redis.cli(["EVAL", "return #redis.call('KEYS', ARGV[1])", "0", pattern])).trim());

    // ---- machine one: fill the remote ----
    const fillMs: Record<RemoteTool, number> = { bare: 0, ccache: 0, zccache: 0, "zccache-daemon-up": 0 };
    for (const tool of ["zccache", "ccache"] as const) {
      progress(`remote: machine one fills the remote with ${tool} (${layout.copies[0]})`);
      const dir = path.join(root, `${tool}-machine-one`);
      const env = envFor(tool, dir);
      try {
        cmakeConfigure(c1, BUILD_TYPE, launcher(tool), env);
        fillMs[tool] = cmakeMake(c1, env);
        if (tool === "zccache") await waitForWrites(b, env);
      } finally {
        // zccache stop also drains whatever write is still in flight.
        if (tool === "zccache") sh([b.zccache, "stop"], env);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    const zccacheKeys = await keys("zccache:*");
    const remoteKeys: Record<RemoteTool, number> = { bare: 0, ccache: await keys("ccache:*"), zccache: zccacheKeys, "zccache-daemon-up": zccacheKeys };
    fillMs["zccache-daemon-up"] = fillMs.zccache;

    // ---- machine two: fresh local caches, the same remote ----
    const rows = new Map<RemoteTool, RemoteToolResult>(
      ORDER.map((tool) => [
        tool,
        { tool, runsMs: [], medianMs: 0, compiles: [], remoteHits: [], hits: [], misses: [], remoteErrors: 0, identical: [], fillMs: fillMs[tool], remoteKeys: remoteKeys[tool] },
      ]),
    );
    let reference: Map<string, Buffer> | null = null;
    for (let i = 0; i < runs; i++) {
      for (const tool of ORDER) {
        progress(`remote: machine two, ${tool}, run ${i + 1}/${runs} (${layout.copies[1]})`);
        const dir = path.join(root, `${tool}-machine-two-${i}`);
        const env = envFor(tool, dir);
        const row = rows.get(tool)!;
        try {
          cmakeConfigure(c2, BUILD_TYPE, launcher(tool), env);
          // CMake's configure does not start zccache's daemon, and asking it for its counters
          // would: the timed build starts it, as on a fresh machine (its counters start at 0).
          if (tool === "zccache-daemon-up" && sh([b.zccache, "start"], env).code !== 0) throw new Error("zccache start failed");
          const before = tool === "zccache" ? NOTHING : counted(b, tool, env);
          row.runsMs.push(cmakeMake(c2, env));
          const d = minus(counted(b, tool, env), before);
          const objects = snapshot(path.join(c2, "build"), ".o");
          reference ??= objects;
          row.compiles.push(d.compiles);
          row.hits.push(d.hits);
          row.remoteHits.push(d.remoteHits);
          row.misses.push(d.misses);
          row.remoteErrors += d.remoteErrors;
          row.identical.push(sameCount(reference, objects));
        } finally {
          if (isZccache(tool)) sh([b.zccache, "stop"], env);
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }
    }
    const tools = ORDER.map((t) => {
      const row = rows.get(t)!;
      return { ...row, medianMs: median(row.runsMs) };
    });
    return {
      project: `libuv (CMake, Debian libuv1 ${sources.version} sources)`,
      copies: layout.copies,
      buildType: BUILD_TYPE,
      objects: reference?.size ?? 0,
      runs,
      tools,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await redis.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}
