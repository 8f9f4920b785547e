// Handles a compile request: refuses clients newer than us, otherwise runs the pipeline.
import { handleCompile } from "../../cache/pipeline.ts";
import type { CompileRequest, ResponseBody } from "../../protocol/messages.ts";
import { compareVersions } from "../../protocol/version.ts";
import type { DaemonState } from "../state.ts";

export async function compileHandler(
  req: CompileRequest,
  state: DaemonState,
  requestShutdown: () => void,
): Promise<ResponseBody> {
  if (compareVersions(req.clientVersion, state.version) > 0) {
    state.log.info(`client ${req.clientVersion} is newer than this daemon (${state.version}); handing over`);
    requestShutdown();
    return { type: "error", code: "daemon-outdated", message: `daemon ${state.version} is older than client ${req.clientVersion}` };
  }
  const reply = await handleCompile(req, state.ctx);
  if (reply.kind === "run-local") {
    return reply.compilerPath === null
      ? { type: "run-local", reason: reply.reason }
      : { type: "run-local", reason: reply.reason, compilerPath: reply.compilerPath };
  }
  return {
    type: "compile-result",
    exitCode: reply.exitCode,
    stdout: reply.stdout.toString("base64"),
    stderr: reply.stderr.toString("base64"),
    outcome: reply.outcome,
  };
}
