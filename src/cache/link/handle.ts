// Links and archives (ar, ld, lld, wasm-ld, and gcc/clang/emcc used as a link driver):
// classify → key → lookup → deliver | run → store, counted under the language "link".
import type { CompilerFamily } from "../../compilers/family.ts";
import type { CompileRequest } from "../../protocol/messages.ts";
import type { MissReason, Outcome } from "../../stats/outcomes.ts";
import type { CompilerIdentity } from "../compiler-identity.ts";
import type { CompileReply, PipelineContext } from "../context.ts";
import { findValidEntry } from "../validate.ts";
import { linkDetail } from "./hints.ts";
import { runLinkMiss } from "./miss.ts";
import { deliverLinkOutputs } from "./outputs.ts";
import { prepareLink } from "./plan.ts";

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
  const startedMs = performance.now();
  const entries = store.entries(plan.key);
  let missReason: MissReason = entries.length === 0 ? "new-source" : "inputs-changed";
  const hit = findValidEntry(entries, ctx.files, ctx.absence);
  if (hit !== null) {
    const failed = deliverLinkOutputs(store, hit.outputs);
    if (failed === null) {
      store.touch(hit.id);
      const outcome: Outcome = { kind: "hit" };
      const savedMs = Math.max(0, (hit.compileMs ?? 0) - (performance.now() - startedMs));
      const inputs = [...plan.keyInputs, ...hit.deps];
      ctx.stats.record(outcome, "link", linkDetail({ output: plan.outputAbs, savedMs, hints: plan.hints, inputs, ident, req, args: plan.args }));
      return {
        kind: "result",
        exitCode: hit.exitCode,
        stdout: Buffer.from(hit.stdout, "base64"),
        stderr: Buffer.from(hit.stderr, "base64"),
        outcome: "hit",
      };
    }
    if (failed === "io") missReason = "delivery-failed";
    else {
      missReason = "corrupt-entry";
      store.remove(hit.id);
    }
  }
  return runLinkMiss(plan, missReason, req, ident, ctx);
}
