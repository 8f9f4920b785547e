// Handles a compile request: a build env with bad ZCCACHE_* settings is told so (run-local),
// otherwise the pipeline runs with a per-request stats sink that also feeds the journal, the
// session and the history; hits are offered to the verifier (verify_rate, daemon/verify.ts).
import type { OutcomeDetail, StatsSink } from "../../cache/context.ts";
import { handleCompile } from "../../cache/pipeline.ts";
import type { CompileRequest, ResponseBody } from "../../protocol/messages.ts";
import type { Language, Outcome } from "../../stats/outcomes.ts";
import { allowlistedEnv } from "../journal.ts";
import type { DaemonState } from "../state.ts";
import { EnvSettingsCheck } from "./env-settings.ts";

interface Event {
  readonly outcome: Outcome;
  readonly language: Language;
  readonly detail: OutcomeDetail | undefined;
}

const envChecks = new WeakMap<DaemonState, EnvSettingsCheck>();

export async function compileHandler(req: CompileRequest, state: DaemonState): Promise<ResponseBody> {
  let envCheck = envChecks.get(state);
  if (envCheck === undefined) {
    envCheck = new EnvSettingsCheck(state.ep.cacheRoot);
    envChecks.set(state, envCheck);
  }
  const settings = envCheck.settings(req.env);
  if (!settings.ok) {
    // The build asked for something we cannot honour: say so once per compile, never guess.
    return { type: "run-local", reason: "bad-setting", message: `${settings.error}; compiling without the cache` };
  }
  const relocation = { baseDirs: settings.value.baseDirs.value, remap: settings.value.pathRemap.value };
  const startedMs = performance.now();
  const events: Event[] = [];
  const global = state.ctx.stats;
  const stats: StatsSink = {
    record(outcome, language, detail) {
      global.record(outcome, language, detail);
      events.push({ outcome, language, detail });
    },
    error(reason, detail) {
      global.error(reason, detail);
      state.sessions.recordError(req.sessionId, reason);
    },
  };
  const prefixCommand = settings.value.prefixCommand.value;
  const remoteSpecs = settings.value.remoteStorage.value;
  const local = state.store;
  const store =
    remoteSpecs.length > 0 && local !== null
      ? state.remotes.storeFor(local, remoteSpecs, settings.value.remoteSecret.value)
      : state.ctx.store;
  const preprocessorFallback = settings.value.preprocessorFallback.value;
  const verifyRate = settings.value.verifyRate.value;
  const reply = await handleCompile(req, { ...state.ctx, store, stats, relocation, prefixCommand, preprocessorFallback });
  const latencyMs = performance.now() - startedMs;
  const exitCode = reply.kind === "result" ? reply.exitCode : null;
  const session = state.sessions.get(req.sessionId);
  const env = allowlistedEnv(req.env);
  for (const e of events) {
    const savedMs = e.detail?.savedMs ?? 0;
    state.sessions.record(req.sessionId, e.outcome, e.language, savedMs);
    // One time for the journal line and the history's miss row: `explain --session` pairs them.
    const atMs = Date.now();
    state.journal.append(
      {
        ts: new Date(atMs).toISOString(),
        session: req.sessionId ?? null,
        // "remote-hit": found on remote storage (and imported locally), as opposed to "hit".
        outcome: e.outcome.kind === "hit" && e.outcome.tier === "remote" ? "remote-hit" : e.outcome.kind,
        reason: e.outcome.kind === "hit" ? null : e.outcome.reason,
        language: e.language,
        compiler: req.compiler,
        args: req.args,
        cwd: req.cwd,
        output: e.detail?.output ?? null,
        exit_code: exitCode,
        latency_ms: Math.round(latencyMs * 1000) / 1000,
        saved_ms: Math.round(savedMs),
        hints: e.detail?.hints ?? [],
        env,
      },
      session?.journal ?? null,
    );
    if (e.detail?.output !== undefined) {
      // History is for `explain`; a full disk must not turn a hit into an error.
      state.history?.recordLater(
        e.detail.output,
        e.outcome,
        e.detail.facts,
        (err) => state.log.error(`history write failed: ${err instanceof Error ? err.message : String(err)}`),
        atMs,
      );
    }
    // ZCCACHE_VERIFY_RATE: queued now, compiled again only after this reply has been written.
    if (e.outcome.kind === "hit") state.verifier.consider(e.detail, e.language, verifyRate);
  }
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
