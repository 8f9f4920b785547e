// The inputs of a C/C++ compile as `zccache explain` compares them between two compiles.
import type { CcJob } from "../compilers/cc/plan.ts";
import { keyEnvPairs } from "../compilers/cc/plan.ts";
import type { CompileRequest } from "../protocol/messages.ts";
import type { CompilerIdentity } from "./compiler-identity.ts";
import type { CompileFacts } from "./context.ts";

/** What `explain` compares between two compiles of the same output. */
export function ccFacts(
  job: CcJob,
  ident: CompilerIdentity,
  req: CompileRequest,
  sourceHash: string,
  deps: readonly { readonly path: string; readonly hash: string }[],
): CompileFacts {
  return {
    compiler: ident.path,
    compilerHash: ident.hash,
    cwd: req.cwd,
    args: job.args,
    env: keyEnvPairs(req.env),
    source: { path: job.sourceAbs, hash: sourceHash },
    deps: deps.map((d) => ({ path: d.path, hash: d.hash })),
  };
}
