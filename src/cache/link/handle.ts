// Links and archives (ar, ld, and gcc/clang/emcc used as a link driver). Not cached yet:
// every invocation runs the real tool.
import type { CompilerFamily } from "../../compilers/family.ts";
import type { CompileRequest } from "../../protocol/messages.ts";
import type { CompilerIdentity } from "../compiler-identity.ts";
import type { CompileReply, PipelineContext } from "../context.ts";

export async function handleLink(
  _req: CompileRequest,
  ident: CompilerIdentity,
  _family: CompilerFamily,
  _args: readonly string[],
  ctx: PipelineContext,
): Promise<CompileReply> {
  ctx.stats.record({ kind: "uncacheable", reason: "link" }, "link");
  return { kind: "run-local", reason: "link", compilerPath: ident.path };
}
