// Clean rebuilds of whole projects with a warm cache: per tool a fresh cache and one priming
// build, then rounds of `make clean` + a timed build with every tool in turn (the order
// rotating). Objects and program output are compared with the bare build's after every
// build, and hits are read from the tool's own statistics.
import * as fs from "node:fs";
import * as path from "node:path";
import { type Bench, clearCommand, type Env, hitCount, hyperfine, launcherFor, sh, timingOf, TOOLS, type Tool } from "./harness.ts";
import type { Project } from "./projects.ts";
import type { ProjectResult } from "./report.ts";

/**
 * Builds bench/instant-cache.c (the floor under any cache: objects and depfiles copied from a
 * stash, no decisions) into the bench's work dir; null without a C compiler. Linked the way
 * scripts/build.sh links the launcher (static musl where musl-gcc is installed, else static
 * with cc), so the floor does not pay a start-up the launcher does not.
 */
function buildInstantCache(b: Bench): string | null {
  const src = path.join(import.meta.dir, "instant-cache.c");
  const out = path.join(b.work, "instant-cache");
  for (const [cc, ...link] of [["musl-gcc", "-static"], ["cc", "-static"], ["cc"]] as const) {
    if (Bun.which(cc) === null) continue;
    if (sh([cc, "-O2", "-Wall", "-Wextra", "-Werror", ...link, "-o", out, src], b.env).code === 0) return out;
  }
  return null;
}

/** Every .o and .d under the project, copied to stash + its absolute path (what instant-cache reads). */
function stashOutputs(p: Project, stash: string): void {
  fs.rmSync(stash, { recursive: true, force: true });
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (e.isFile() && /\.(o|d)$/.test(e.name)) {
        fs.mkdirSync(path.join(stash, path.dirname(f)), { recursive: true });
        fs.copyFileSync(f, path.join(stash, f));
      }
    }
  };
  walk(p.dir);
}

function relObjects(p: Project): Map<string, Buffer> {
  return new Map(p.objects().map((f) => [path.relative(p.dir, f), fs.readFileSync(f)]));
}

export function measureProjects(b: Bench, projects: Project[], runs: number, progress: (what: string) => void): ProjectResult[] {
  const results: ProjectResult[] = [];
  sh(["sccache", "--start-server"], b.env);
  const instant = buildInstantCache(b);
  try {
    for (const p of projects) {
      const run = (cmd: string, env: Env = b.env): ReturnType<typeof sh> => sh(["sh", "-c", cmd], env, p.dir);
      const launch = (tool: Tool | "instant", launcher: string): void => {
        if (p.configure === undefined) return;
        const r = run(p.relaunch === undefined ? p.configure(launcher) : p.relaunch(launcher));
        if (r.code !== 0) throw new Error(`configuring ${p.name} for ${tool} failed: ${r.err}`);
      };
      progress(`project: ${p.name}`);
      if (p.configure !== undefined) {
        const r = run(p.configure(""));
        if (r.code !== 0) throw new Error(`configuring ${p.name} failed: ${r.err}`);
      }
      run(p.clean);
      const bareBuild = run(p.build("gcc", "ar"));
      if (bareBuild.code !== 0) throw new Error(`bare build of ${p.name} failed: ${bareBuild.err}`);
      const refOut = run(p.check).out;
      const refObjs = relObjects(p);
      /** What a build left, compared with the bare build's. */
      const compare = (): { same: boolean; count: number; outSame: boolean } => {
        const objs = relObjects(p);
        const same = objs.size === refObjs.size && [...objs].every(([k, v]) => refObjs.get(k)?.equals(v) === true);
        return { same, count: objs.size, outSame: run(p.check).out === refOut };
      };
      /** One timed clean rebuild (the clean not timed). */
      const timedOnce = (cc: string, ar: string, env: Env): number => {
        const buildCmd = `sh -c '${p.build(cc, ar).replace(/'/g, "'\\''")}'`;
        return hyperfine(b, buildCmd, { runs: 1, prepare: `sh -c '${p.clean}'`, cwd: p.dir, env }).median;
      };
      const checksOf = (c: { same: boolean; count: number; outSame: boolean }[]): string => {
        const objects = c.every((x) => x.same) ? `${c[0]?.count ?? 0} objects identical` : `OBJECTS DIFFER in ${c.filter((x) => !x.same).length} of ${c.length} builds`;
        return `${objects}; output ${c.every((x) => x.outSame) ? "same" : "DIFFERS"}`;
      };
      const n = Math.min(p.runs ?? runs, runs);

      // Bare builds are the slowest and compared against by no target: a few, one after another.
      {
        const times: number[] = [];
        const checks: ReturnType<typeof compare>[] = [];
        for (let i = 0; i < Math.min(n, 3); i++) {
          times.push(timedOnce("gcc", "ar", b.env));
          checks.push(compare());
        }
        results.push({ project: p.name, tool: "bare", ...msOf(times), verified: `${checksOf(checks)}; -` });
      }

      // The caches (and the floor) in rounds: each round builds once with every one of them,
      // the order rotating from round to round. This machine's speed drifts by a third within
      // minutes; measured one tool after another, a slow spell lands on one tool's runs.
      interface Contender {
        readonly tool: Tool | "instant";
        readonly cc: string;
        readonly ar: string;
        readonly launcher: string;
        readonly env: Env;
        readonly times: number[];
        readonly checks: ReturnType<typeof compare>[];
        hits: number;
      }
      const contenders: Contender[] = [];
      const stash = path.join(b.work, "instant-stash");
      const passedLog = path.join(b.work, "instant-passed");
      if (instant !== null) {
        // The floor: every compile answered by a plain copy of the bare build's object and
        // depfile (make, CMake's own steps, links and archives still run).
        stashOutputs(p, stash);
        fs.rmSync(passedLog, { force: true });
        const env = { ...b.env, INSTANT_CACHE_STASH: stash, INSTANT_CACHE_PASSED: passedLog };
        contenders.push({ tool: "instant", cc: `${instant} gcc`, ar: "ar", launcher: instant, env, times: [], checks: [], hits: 0 });
      }
      for (const tool of TOOLS) {
        if (tool === "bare") continue;
        const launcher = launcherFor(b, tool);
        const c: Contender = { tool, cc: `${launcher} gcc`, ar: tool === "zccache" ? `${b.zccache} ar` : "ar", launcher, env: b.env, times: [], checks: [], hits: 0 };
        // A fresh cache, filled by one build.
        run(clearCommand(b, tool));
        launch(tool, launcher);
        const prime = run(`${p.clean} && ${p.build(c.cc, c.ar)}`);
        if (prime.code !== 0) throw new Error(`${tool} build of ${p.name} failed: ${prime.err}`);
        contenders.push(c);
      }
      for (let round = 0; round < n; round++) {
        progress(`project: ${p.name}, round ${round + 1}/${n}`);
        for (let i = 0; i < contenders.length; i++) {
          const c = contenders[(round + i) % contenders.length] as Contender;
          launch(c.tool, c.launcher);
          const before = c.tool === "instant" ? 0 : hitCount(b, c.tool);
          c.times.push(timedOnce(c.cc, c.ar, c.env));
          if (c.tool !== "instant") c.hits += hitCount(b, c.tool) - before;
          c.checks.push(compare());
        }
      }
      for (const c of contenders) {
        if (c.tool === "instant") {
          // Compiles it could not answer ran the compiler: then this row is no floor.
          const passed = fs.existsSync(passedLog) ? fs.readFileSync(passedLog, "utf8").split("\n").filter((l) => l !== "").length : 0;
          results.push({
            project: p.name,
            tool: "instant",
            ...msOf(c.times),
            verified: `${checksOf(c.checks)}; ${passed === 0 ? "floor: every compile a copy" : `NO FLOOR: ${passed} compiles ran the compiler`}`,
            floor: passed === 0,
          });
        } else {
          results.push({ project: p.name, tool: c.tool, ...msOf(c.times), verified: `${checksOf(c.checks)}; ${(c.hits / n).toFixed(0)} hits/run` });
        }
      }
      fs.rmSync(stash, { recursive: true, force: true });
      fs.rmSync(passedLog, { force: true });
    }
  } finally {
    sh(["sccache", "--stop-server"], b.env);
    sh([b.zccache, "stop"], b.env);
  }
  return results;
}


function msOf(times: readonly number[]): { medianMs: number; minMs: number; maxMs: number } {
  const t = timingOf(times);
  return { medianMs: t.median, minMs: t.min, maxMs: t.max };
}
