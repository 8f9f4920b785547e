// Links and archives (ar, ld, lld, wasm-ld, and gcc/clang/emcc used as a link driver):
// classify → key, then the serve loop (serve/serve.ts) with this family's adapter; counted
// under the language "link".
import * as path from "node:path";
import type { CompilerFamily } from "../../compilers/family.ts";
import { ok } from "../../platform/result.ts";
import type { CompileRequest } from "../../protocol/messages.ts";
import type { ServeJob } from "../../serve/adapter.ts";
import { serve } from "../../serve/serve.ts";
import { resolverFor } from "../../serve/validate.ts";
import type { OutputRecord, StoredEntry } from "../../store/store.ts";
import type { CompilerIdentity } from "../compiler-identity.ts";
import { type CompileReply, type PipelineContext, storedReply } from "../context.ts";
import { linkDetail } from "./hints.ts";
import { runLinkMiss } from "./miss.ts";
import { deliverLinkOutput, isMainOutput } from "./outputs.ts";
import { type LinkPlan, prepareLink } from "./plan.ts";

export async function handleLink(
  req: CompileRequest,
  ident: CompilerIdentity,
  family: CompilerFamily,
  args: readonly string[],
  ctx: PipelineContext,
): Promise<CompileReply> {
  const store = ctx.store;
  const prepared = store === null ? null : await prepareLink(req, ident, family, args, ctx);
  if (store === null || prepared === null || prepared.kind === "run-local") {
    const reason = prepared?.kind === "run-local" ? prepared.reason : "cache-unavailable";
    ctx.stats.record({ kind: "uncacheable", reason }, "link");
    return { kind: "run-local", reason, compilerPath: ident.path };
  }
  const plan = prepared.plan;
  const done = ctx.writes.begin([plan.outputAbs]);
  try {
    return await serve(linkServeJob(plan, req, ident, ctx, performance.now()), store, ctx);
  } finally {
    done();
  }
}

/**
 * Side and deploy files go next to this job's output when they were next to the stored
 * one; a file the miss found elsewhere (a named map file) keeps its recorded path.
 */
function linkDestination(plan: LinkPlan, output: OutputRecord, entry: StoredEntry): string {
  if (isMainOutput(output.role)) return plan.outputAbs;
  const storedMain = entry.outputs.find((o) => isMainOutput(o.role));
  if (storedMain === undefined || path.dirname(output.path) !== path.dirname(storedMain.path)) return output.path;
  return path.join(path.dirname(plan.outputAbs), path.basename(output.path));
}

function linkServeJob(
  plan: LinkPlan,
  req: CompileRequest,
  ident: CompilerIdentity,
  ctx: PipelineContext,
  startedMs: number,
): ServeJob<CompileReply> {
  const resolve = resolverFor(req.cwd);
  return {
    key: plan.key,
    startedMs,
    resolve,
    accepts: (entry) => {
      const bound = (entry as StoredEntry & { outputBinding?: unknown }).outputBinding;
      if (bound !== undefined && bound !== plan.outputAbs) return false;
      return entry.outputs.some((o) => isMainOutput(o.role));
    },
    destination: (output, entry) => linkDestination(plan, output, entry),
    // Side files first, the output last: the entry's order.
    deliverOutput: (store, output, dest) => deliverLinkOutput(store, output, dest),
    replay: (entry) => ok(storedReply(entry)),
    recordHit: (entry, savedMs, outcome) => {
      // What a hit delivered is this entry's from now on (a later link's hook must not take it).
      for (const o of entry.outputs) ctx.writes.own(linkDestination(plan, o, entry), plan.outputAbs);
      const inputs = [...plan.keyInputs, ...entry.deps.map((d) => ({ path: resolve(d.path), hash: d.hash }))];
      ctx.stats.record(
        outcome,
        "link",
        linkDetail({ output: plan.outputAbs, savedMs, hints: plan.hints, inputs, ident, req, args: plan.args }),
      );
    },
    miss: (missReason) => runLinkMiss(plan, missReason, req, ident, ctx),
  };
}
