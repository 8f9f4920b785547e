// What the journal, sessions and `zccache explain` learn about a link: its output, the time a
// hit saved, the inputs it read, and hints — notes about a result that is cached although it
// is not reproducible bit for bit (an archive with real timestamps, a random build id). Hints
// travel as `hints` in the detail; a daemon that knows the field counts them as
// `hint.<name>` and writes them to the journal.
import type { LinkHint } from "../../compilers/link/invocation.ts";
import { LINK_KEY_ENV_VARS } from "../../compilers/link/key.ts";
import type { CompileRequest } from "../../protocol/messages.ts";
import type { CompilerIdentity } from "../compiler-identity.ts";
import type { CompileFacts, OutcomeDetail } from "../context.ts";

export interface LinkDetailInputs {
  readonly output: string;
  readonly savedMs?: number;
  readonly hints: readonly LinkHint[];
  /** Every input with its hash (named ones first), for `explain`; omitted when unknown. */
  readonly inputs?: readonly { readonly path: string; readonly hash: string }[];
  readonly ident: CompilerIdentity;
  readonly req: CompileRequest;
  readonly args: readonly string[];
}

export function linkDetail(d: LinkDetailInputs): OutcomeDetail {
  // explain compares a "source" and the files read after it: for a link every input is one
  // of the files read, so the source slot holds a constant.
  const facts: CompileFacts | undefined =
    d.inputs === undefined
      ? undefined
      : {
          compiler: d.ident.path,
          compilerHash: d.ident.hash,
          cwd: d.req.cwd,
          args: d.args,
          env: LINK_KEY_ENV_VARS.filter((v) => d.req.env[v] !== undefined).map((v) => `${v}=${d.req.env[v]}`),
          source: { path: "", hash: "" },
          deps: d.inputs.map((i) => ({ path: i.path, hash: i.hash })),
        };
  const detail = { output: d.output, savedMs: d.savedMs, facts, hints: [...new Set(d.hints)] };
  return detail;
}
