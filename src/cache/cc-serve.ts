// C and C++ behind the serve loop: each output role goes to this job's path for it (object,
// user depfile, side files), written the way the compiler writes it (cc-deliver.ts).
import type { CcJob } from "../compilers/cc/plan.ts";
import type { ContentHash } from "../platform/hash.ts";
import { ok } from "../platform/result.ts";
import { realPathOrNull } from "../platform/fsx.ts";
import type { ServeJob } from "../serve/adapter.ts";
import { compilerCwd } from "../platform/relative-paths.ts";
import { resolverFor } from "../serve/validate.ts";
import { depfileTargets, renderDepfile } from "../compilers/cc/depfile-template.ts";
import { outputPathFor } from "../compilers/cc/args.ts";
import { bindingOf, placeBindingOf, renderStdio } from "./cc-relocation.ts";
import { ccFieldsOf } from "./cc-entry.ts";
import type { StoredEntry } from "../store/store.ts";
import { deliverCcOutput, writeRenderedOutput } from "./cc-deliver.ts";
import { type MissInput, runCcMiss } from "./cc-miss.ts";
import { missByText } from "./cc-preprocessed.ts";
import { type CcKeyInputs, keyEnvPairs } from "../compilers/cc/plan.ts";
import { ccFacts } from "./facts.ts";
import type { CacheKey } from "./key.ts";
import type { JobResult } from "./pipeline.ts";

export interface CcServeInput extends Omit<MissInput, "key" | "sourceHash" | "missReason"> {
  readonly key: CacheKey;
  /** What the key was made of: the lookup by preprocessed text keys the text the same way. */
  readonly keyInputs: CcKeyInputs;
  readonly sourceHash: ContentHash;
  readonly startedMs: number;
}

/** Where this job writes each role. Side files are optional: a compile may not write them. */
function destinationsOf(job: CcJob): ReadonlyMap<string, string> {
  const m = new Map<string, string>([["object", job.objectPath]]);
  if (job.userDepfile !== null) m.set("depfile", job.userDepfile);
  for (const side of job.sideOutputs) m.set(side.kind, side.path);
  return m;
}

export function ccServeJob(c: CcServeInput): ServeJob<JobResult> {
  const { job, ctx } = c;
  const dests = destinationsOf(job);
  const cwd = c.req.cwd;
  // Recorded paths: below the cwd as spelled, under a base dir relative to the cwd, else absolute.
  const resolve = resolverFor(cwd);
  let binding: string | null = null;
  const bindingNow = (): string => (binding ??= bindingOf(cwd, compilerCwd(cwd, c.req.env), job.args));
  let place: string | null = null;
  const placeNow = (): string => (place ??= placeBindingOf(cwd, compilerCwd(cwd, c.req.env)));
  return {
    key: c.key,
    startedMs: c.startedMs,
    resolve,
    // An entry must give this job the outputs it needs, and nothing it would not write.
    accepts: (entry: StoredEntry): boolean => {
      const cc = ccFieldsOf(entry);
      if (cc === null) return false;
      // A bound entry serves only the compile that stored it (same cwd and arguments), or
      // one bound to its place any compile with its key in that directory.
      if (cc.binding !== undefined && cc.binding !== placeNow() && cc.binding !== bindingNow()) return false;
      for (const [dir, target] of cc.ccDirTargets ?? []) if (realPathOrNull(resolve(dir)) !== resolve(target)) return false;
      const storedDepfile = entry.outputs.some((o) => o.role === "depfile");
      if (job.userDepfile === null ? storedDepfile || cc.ccDepfile !== undefined : !storedDepfile && cc.ccDepfile === undefined) {
        return false;
      }
      return entry.outputs.every((o) => dests.has(o.role)) && entry.outputs.some((o) => o.role === "object");
    },
    deliverRendered: (entry) => {
      const tpl = ccFieldsOf(entry)?.ccDepfile;
      if (tpl === undefined || job.userDepfile === null) return ok(undefined);
      const text = renderDepfile(tpl, depfileTargets(job.args, outputPathFor(c.inv, job.source)), cwd);
      return writeRenderedOutput(job.userDepfile, text);
    },
    destination: (output) => dests.get(output.role) ?? null,
    deliverOutput: (store, output, dest) => deliverCcOutput(store, output, dest, c.family, ctx.deliveryMode),
    replay: (entry) => {
      const templated = ccFieldsOf(entry)?.ccStdioTemplate === true;
      const stdio = (b64: string): Buffer => (templated ? renderStdio(Buffer.from(b64, "base64"), cwd) : Buffer.from(b64, "base64"));
      return ok({ exitCode: entry.exitCode, stdout: stdio(entry.stdout), stderr: stdio(entry.stderr), outcome: { kind: "hit" } });
    },
    recordHit: (entry, savedMs, outcome) => {
      // The facts are the entry's deps resolved in this cwd plus what the key was made of:
      // the key, the entry's digest and what the key leaves out (paths, the cwd) name them.
      const env = keyEnvPairs(c.req.env);
      const fingerprint = [c.key, entry.digest, c.ident.path, cwd, job.sourceAbs, String(job.args.length), ...job.args, ...env].join("\u0000");
      const facts = {
        fingerprint,
        get: () => ccFacts(job, c.ident, c.req, c.sourceHash, entry.deps.map((d) => ({ path: resolve(d.path), hash: d.hash }))),
      };
      ctx.stats.record(outcome, c.lang, {
        output: job.objectPath,
        savedMs,
        facts,
        // References only: a verification (verify_rate) reads them after the reply has gone.
        verify: {
          key: c.key,
          entry,
          job,
          inv: c.inv,
          family: c.family,
          terminal: c.terminal,
          ident: c.ident,
          req: c.req,
          relocation: ctx.relocation,
          sourceHash: c.sourceHash,
          resolve,
        },
      });
    },
    miss: (missReason) => (ctx.preprocessorFallback ? missByText({ ...c, missReason }, c.keyInputs, c.startedMs) : runCcMiss({ ...c, missReason })),
  };
}
