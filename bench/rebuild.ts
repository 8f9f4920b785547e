// Clean rebuilds of whole projects with a warm cache: per tool a fresh cache, one priming
// build, then measured `make clean` + build runs. Objects and program output are compared
// with the bare build's, and hits are read from the tool's own statistics.
import * as fs from "node:fs";
import * as path from "node:path";
import { type Bench, clearCommand, hitCount, hyperfine, launcherFor, sh, TOOLS, type Tool } from "./harness.ts";
import type { Project } from "./projects.ts";
import type { ProjectResult } from "./report.ts";

function relObjects(p: Project): Map<string, Buffer> {
  return new Map(p.objects().map((f) => [path.relative(p.dir, f), fs.readFileSync(f)]));
}

export function measureProjects(b: Bench, projects: Project[], runs: number, progress: (what: string) => void): ProjectResult[] {
  const results: ProjectResult[] = [];
  sh(["sccache", "--start-server"], b.env);
  try {
    for (const p of projects) {
      const run = (cmd: string): ReturnType<typeof sh> => sh(["sh", "-c", cmd], b.env, p.dir);
      const configure = (tool: Tool): void => {
        if (p.configure === undefined) return;
        const r = run(p.configure(launcherFor(b, tool)));
        if (r.code !== 0) throw new Error(`configuring ${p.name} for ${tool} failed: ${r.err}`);
      };
      progress(`project: ${p.name}`);
      configure("bare");
      run(p.clean);
      const bareBuild = run(p.build("gcc", "ar"));
      if (bareBuild.code !== 0) throw new Error(`bare build of ${p.name} failed: ${bareBuild.err}`);
      const refOut = run(p.check).out;
      const refObjs = relObjects(p);
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
        const buildCmd = `sh -c '${p.build(cc, ar).replace(/'/g, "'\\''")}'`;
        const t = hyperfine(b, buildCmd, { runs: n, prepare: `sh -c '${p.clean}'`, cwd: p.dir });
        const hits = hitCount(b, tool) - before;
        const out = run(p.check).out;
        const objs = relObjects(p);
        let same = objs.size === refObjs.size;
        for (const [k, v] of objs) if (!refObjs.get(k)?.equals(v)) same = false;
        results.push({
          project: p.name,
          tool,
          medianMs: t.median,
          minMs: t.min,
          maxMs: t.max,
          verified: `${same ? `${objs.size} objects identical` : "OBJECTS DIFFER"}; output ${out === refOut ? "same" : "DIFFERS"}; ${tool === "bare" ? "-" : `${(hits / n).toFixed(0)} hits/run`}`,
        });
      }
    }
  } finally {
    sh(["sccache", "--stop-server"], b.env);
    sh([b.zccache, "stop"], b.env);
  }
  return results;
}
