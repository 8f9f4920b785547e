// rustc behind RUSTC_WRAPPER. Not cached yet: every invocation runs the real rustc.
import type { CompileRequest } from "../../protocol/messages.ts";
import type { CompilerIdentity } from "../compiler-identity.ts";
import type { CompileReply, PipelineContext } from "../context.ts";

export async function handleRustc(
  _req: CompileRequest,
  ident: CompilerIdentity,
  ctx: PipelineContext,
): Promise<CompileReply> {
  ctx.stats.record({ kind: "uncacheable", reason: "unknown-compiler" }, "rust");
  return { kind: "run-local", reason: "unknown-compiler", compilerPath: ident.path };
}
