// preprocessor_fallback: does the lookup by preprocessed text pay for the preprocessing it adds?
//  1. Cold builds of libuv (CMake builds every source twice, for the shared and the static
//     library, with -D flags that do not change the preprocessed text): zccache with the
//     fallback off and on, ccache (direct mode with its preprocessor mode behind it, as it
//     ships) and the bare compiler, each from an empty cache, interleaved round by round.
//     Then, with the same cache, the build again after a define no source reads changed (a
//     build number passed as -DZC_BUILD_ID=N in CMAKE_C_FLAGS): every direct key changes,
//     the preprocessed text does not.
//  2. A trivial miss: the single-file C compile with the cache emptied before every run,
//     fallback off and on (the cost of the extra preprocessing where it cannot help).
import * as fs from "node:fs";
import * as path from "node:path";
import { type Bench, type Env, hyperfine, sh, SINGLE_FILES, backdate } from "./harness.ts";
import type { Project } from "./projects.ts";
import { ccacheStat } from "./relocation.ts";
import { median } from "./storage.ts";

export type FallbackTool = "bare" | "zccache-off" | "zccache-on" | "ccache";
const TOOLS: FallbackTool[] = ["bare", "zccache-off", "zccache-on", "ccache"];

export interface ColdRow {
  tool: FallbackTool;
  /** Wall time of each cold build, milliseconds. */
  runs: number[];
  medianMs: number;
  /** In the last round: hits, of them found by preprocessed text, and misses, as the tool counts them. */
  hits: number;
  byText: number;
  misses: number;
  /** Every object of the last round (cold build and rebuild) equals the bare build's. */
  identical: boolean;
  /** The rebuild after the build number changed (absent for bare): wall times and the last round's counts. */
  defineChanged?: { runs: number[]; medianMs: number; hits: number; byText: number; misses: number };
}

export interface MissRow {
  tool: Exclude<FallbackTool, "bare"> | "bare";
  medianMs: number;
  minMs: number;
  maxMs: number;
}

export interface FallbackResult {
  project: string;
  objects: number;
  cold: ColdRow[];
  trivialMiss: MissRow[];
}

function toolEnv(b: Bench, tool: FallbackTool, root: string): Env {
  const e: Env = { ...b.env };
  for (const k of ["ZCCACHE_PREPROCESSOR_FALLBACK", "ZCCACHE_REMOTE_STORAGE", "CCACHE_REMOTE_STORAGE", "CCACHE_NODIRECT", "CCACHE_DIRECT"]) delete e[k];
  const dir = path.join(root, tool);
  if (tool === "ccache") return { ...e, CCACHE_DIR: dir };
  if (tool === "bare") return e;
  return { ...e, ZCCACHE_CACHE_DIR: dir, ZCCACHE_PREPROCESSOR_FALLBACK: tool === "zccache-on" ? "1" : "0" };
}

function launcher(b: Bench, tool: FallbackTool): string {
  return tool === "bare" ? "" : tool === "ccache" ? "ccache" : b.zccache;
}

function zStatus(b: Bench, env: Env): { hits: number; misses: number; preprocessed_hits?: number } {
  const r = sh([b.zccache, "status", "--json"], env);
  if (r.code !== 0) throw new Error(`zccache status failed: ${r.err}`);
  return JSON.parse(r.out) as { hits: number; misses: number; preprocessed_hits?: number };
}

export function measureFallback(
  b: Bench,
  p: Project,
  root: string,
  o: { rounds: number; missRuns: number },
  progress: (what: string) => void,
): FallbackResult {
  const run = (cmd: string, env: Env): ReturnType<typeof sh> => sh(["sh", "-c", cmd], env, p.dir);
  const times = new Map<FallbackTool, number[]>(TOOLS.map((t) => [t, []]));
  const rebuildTimes = new Map<FallbackTool, number[]>(TOOLS.map((t) => [t, []]));
  const last = new Map<FallbackTool, { hits: number; byText: number; misses: number; objects: Map<string, Buffer> }>();
  const lastRebuild = new Map<FallbackTool, { hits: number; byText: number; misses: number; objects: Map<string, Buffer> }>();
  const counts = (tool: FallbackTool, env: Env): { hits: number; byText: number; misses: number } => {
    if (tool === "bare") return { hits: 0, byText: 0, misses: 0 };
    if (tool === "ccache") {
      const byText = ccacheStat(env, "preprocessed_cache_hit");
      return { hits: ccacheStat(env, "direct_cache_hit") + byText, byText, misses: ccacheStat(env, "cache_miss") };
    }
    const s = zStatus(b, env);
    return { hits: s.hits, byText: s.preprocessed_hits ?? 0, misses: s.misses };
  };
  const configure = (tool: FallbackTool, env: Env, buildId: number): void => {
    if (p.configure === undefined) throw new Error(`${p.name} is not a CMake project`);
    const cmd = p.configure(launcher(b, tool));
    if (!cmd.endsWith(" >/dev/null")) throw new Error(`unexpected configure command for ${p.name}`);
    const c = run(`${cmd.slice(0, -" >/dev/null".length)} -DCMAKE_C_FLAGS=-DZC_BUILD_ID=${buildId} >/dev/null`, env);
    if (c.code !== 0) throw new Error(`configuring ${p.name} for ${tool} failed: ${c.err}`);
  };
  const timedBuild = (tool: FallbackTool, env: Env): number => {
    const started = performance.now();
    const r = run(p.build(`${launcher(b, tool)} gcc`.trim(), "ar"), env);
    const ms = performance.now() - started;
    if (r.code !== 0) throw new Error(`${tool} build of ${p.name} failed: ${r.err}`);
    return ms;
  };
  for (let round = 0; round < o.rounds; round++) {
    // The starting tool rotates so that no tool always builds first after a pause.
    const order = TOOLS.map((_, i) => TOOLS[(i + round) % TOOLS.length] as FallbackTool);
    for (const tool of order) {
      progress(`fallback: ${p.name}, round ${round + 1}/${o.rounds}, cold build with ${tool}`);
      const env = toolEnv(b, tool, root);
      const dir = path.join(root, tool);
      fs.rmSync(dir, { recursive: true, force: true });
      try {
        configure(tool, env, 1);
        if (tool.startsWith("zccache")) sh([b.zccache, "start"], env);
        times.get(tool)?.push(timedBuild(tool, env));
        const objects = new Map(p.objects().map((f) => [path.relative(p.dir, f), fs.readFileSync(f)]));
        const cold = counts(tool, env);
        last.set(tool, { ...cold, objects });
        if (tool !== "bare") {
          progress(`fallback: ${p.name}, round ${round + 1}/${o.rounds}, build number changed, with ${tool}`);
          configure(tool, env, 2);
          rebuildTimes.get(tool)?.push(timedBuild(tool, env));
          const after = counts(tool, env);
          const rebuilt = new Map(p.objects().map((f) => [path.relative(p.dir, f), fs.readFileSync(f)]));
          lastRebuild.set(tool, { hits: after.hits - cold.hits, byText: after.byText - cold.byText, misses: after.misses - cold.misses, objects: rebuilt });
        }
      } finally {
        if (tool.startsWith("zccache")) sh([b.zccache, "stop"], env);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const bareObjects = last.get("bare")?.objects ?? new Map<string, Buffer>();
  const cold: ColdRow[] = TOOLS.map((tool) => {
    const l = last.get(tool);
    const runs = times.get(tool) ?? [];
    const asBare = (objects: Map<string, Buffer>): boolean =>
      objects.size === bareObjects.size && [...objects].every(([f, bytes]) => bareObjects.get(f)?.equals(bytes) === true);
    const rebuild = lastRebuild.get(tool);
    // The build number is read by no source: the rebuilt objects are the bare build's too.
    const identical = l !== undefined && asBare(l.objects) && (rebuild === undefined || asBare(rebuild.objects));
    const rebuildRuns = rebuildTimes.get(tool) ?? [];
    return {
      tool,
      runs,
      medianMs: median(runs),
      hits: l?.hits ?? 0,
      byText: l?.byText ?? 0,
      misses: l?.misses ?? 0,
      identical,
      ...(rebuild === undefined
        ? {}
        : { defineChanged: { runs: rebuildRuns, medianMs: median(rebuildRuns), hits: rebuild.hits, byText: rebuild.byText, misses: rebuild.misses } }),
    };
  });

  // Part 2: a trivial miss, the cache emptied before every run.
  const s = SINGLE_FILES["trivial C"];
  if (s === undefined) throw new Error("no trivial C case");
  const missDir = path.join(root, "miss");
  fs.mkdirSync(missDir, { recursive: true });
  fs.writeFileSync(path.join(missDir, s.file), s.text);
  backdate(path.join(missDir, s.file));
  const trivialMiss: MissRow[] = [];
  for (const tool of TOOLS) {
    progress(`fallback: trivial miss with ${tool}`);
    const env = toolEnv(b, tool, root);
    const cmd = `${launcher(b, tool)} ${s.compiler} -O2 -c ${s.file} -o out.o`.trim();
    const prepare = tool === "bare" ? "true" : tool === "ccache" ? "ccache -C" : `${b.zccache} clear`;
    try {
      if (tool.startsWith("zccache")) sh([b.zccache, "start"], env);
      const t = hyperfine(b, cmd, { runs: o.missRuns, prepare, cwd: missDir, env });
      trivialMiss.push({ tool, medianMs: t.median, minMs: t.min, maxMs: t.max });
    } finally {
      if (tool.startsWith("zccache")) sh([b.zccache, "stop"], env);
      fs.rmSync(path.join(root, tool), { recursive: true, force: true });
    }
  }
  fs.rmSync(missDir, { recursive: true, force: true });
  return { project: p.name, objects: bareObjects.size, cold, trivialMiss };
}
