// Clean rebuilds of whole projects with a warm cache: per tool a fresh cache, one priming
// build, then measured `make clean` + build runs. Objects and program output are compared
// with the bare build's, and hits are read from the tool's own statistics.
import * as fs from "node:fs";
import * as path from "node:path";
import { type Bench, clearCommand, type Env, hitCount, hyperfine, launcherFor, sh, TOOLS, type Tool } from "./harness.ts";
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
      const run = (cmd: string): ReturnType<typeof sh> => sh(["sh", "-c", cmd], b.env, p.dir);
      const configure = (tool: Tool | "instant", launcher = tool === "instant" ? "" : launcherFor(b, tool)): void => {
        if (p.configure === undefined) return;
        const r = run(p.configure(launcher));
        if (r.code !== 0) throw new Error(`configuring ${p.name} for ${tool} failed: ${r.err}`);
      };
      progress(`project: ${p.name}`);
      configure("bare");
      run(p.clean);
      const bareBuild = run(p.build("gcc", "ar"));
      if (bareBuild.code !== 0) throw new Error(`bare build of ${p.name} failed: ${bareBuild.err}`);
      const refOut = run(p.check).out;
      const refObjs = relObjects(p);
      /** n timed clean rebuilds with CC=cc, then what they left compared with the bare build. */
      const timedRebuild = (cc: string, ar: string, n: number, env: Env = b.env): { t: ReturnType<typeof hyperfine>; checks: string } => {
        const buildCmd = `sh -c '${p.build(cc, ar).replace(/'/g, "'\\''")}'`;
        const t = hyperfine(b, buildCmd, { runs: n, prepare: `sh -c '${p.clean}'`, cwd: p.dir, env });
        const objs = relObjects(p);
        const same = objs.size === refObjs.size && [...objs].every(([k, v]) => refObjs.get(k)?.equals(v) === true);
        const out = run(p.check).out;
        return { t, checks: `${same ? `${objs.size} objects identical` : "OBJECTS DIFFER"}; output ${out === refOut ? "same" : "DIFFERS"}` };
      };
      if (instant !== null) {
        // The floor: the same rebuild with every compile answered by a plain copy of the bare
        // build's object and depfile (make, CMake's own steps, links and archives still run).
        const stash = path.join(b.work, "instant-stash");
        stashOutputs(p, stash);
        const passedLog = path.join(b.work, "instant-passed");
        fs.rmSync(passedLog, { force: true });
        configure("instant", instant);
        const { t, checks } = timedRebuild(`${instant} gcc`, "ar", Math.min(p.runs ?? runs, runs), {
          ...b.env,
          INSTANT_CACHE_STASH: stash,
          INSTANT_CACHE_PASSED: passedLog,
        });
        // Compiles it could not answer ran the compiler: then this row is no floor.
        const passed = fs.existsSync(passedLog) ? fs.readFileSync(passedLog, "utf8").split("\n").filter((l) => l !== "").length : 0;
        results.push({
          project: p.name,
          tool: "instant",
          medianMs: t.median,
          minMs: t.min,
          maxMs: t.max,
          verified: `${checks}; ${passed === 0 ? "floor: every compile a copy" : `NO FLOOR: ${passed} compiles ran the compiler`}`,
          floor: passed === 0,
        });
        fs.rmSync(stash, { recursive: true, force: true });
      }
      for (const tool of TOOLS) {
        const cc = tool === "bare" ? "gcc" : `${launcherFor(b, tool)} gcc`;
        const ar = tool === "zccache" ? `${b.zccache} ar` : "ar";
        // The reference build above is bare's first build.
        if (tool !== "bare") {
          run(clearCommand(b, tool));
          configure(tool);
          const prime = run(`${p.clean} && ${p.build(cc, ar)}`);
          if (prime.code !== 0) throw new Error(`${tool} build of ${p.name} failed: ${prime.err}`);
        }
        // Bare builds are the slowest and compared against by no target: fewer runs.
        const n = Math.min(p.runs ?? runs, tool === "bare" ? 3 : runs);
        const before = hitCount(b, tool);
        const { t, checks } = timedRebuild(cc, ar, n);
        const hits = hitCount(b, tool) - before;
        results.push({
          project: p.name,
          tool,
          medianMs: t.median,
          minMs: t.min,
          maxMs: t.max,
          verified: `${checks}; ${tool === "bare" ? "-" : `${(hits / n).toFixed(0)} hits/run`}`,
        });
      }
    }
  } finally {
    sh(["sccache", "--stop-server"], b.env);
    sh([b.zccache, "stop"], b.env);
  }
  return results;
}
