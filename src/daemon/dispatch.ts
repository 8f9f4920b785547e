// Routes a decoded request to its handler; the switch is exhaustive over request types.
import { unreachable } from "../platform/result.ts";
import type { Request, ResponseBody } from "../protocol/messages.ts";
import { compareVersions } from "../protocol/version.ts";
import { foldClientReports } from "./client-reports.ts";
import { compileHandler } from "./handlers/compile.ts";
import { explainSession } from "./handlers/explain-session.ts";
import { buildReport } from "./handlers/report.ts";
import { statusReport } from "./handlers/status.ts";
import { verifySessionHandler } from "./handlers/verify-session.ts";
import { sessionReport } from "./sessions.ts";
import type { DaemonState } from "./state.ts";

export interface Control {
  /** Stop after the current responses have been written. */
  requestShutdown(): void;
}

export async function dispatch(req: Request, state: DaemonState, control: Control): Promise<ResponseBody> {
  if (compareVersions(req.clientVersion, state.version) > 0 && req.type !== "stop") {
    // Any request from a newer client (compile, status, start's ping, …) retires us: the
    // client waits for us to exit, starts its own daemon and asks again.
    state.log.info(`client ${req.clientVersion} is newer than this daemon (${state.version}); handing over`);
    state.pendingExit ??= { event: "version-replace", newer_client: req.clientVersion };
    control.requestShutdown();
    return { type: "error", code: "daemon-outdated", message: `daemon ${state.version} is older than client ${req.clientVersion}` };
  }
  if (req.type === "compile" || req.type === "status" || req.type === "clear" || req.type === "cleanup") state.ensureStore();
  switch (req.type) {
    case "compile":
      return compileHandler(req, state);
    case "ping":
      return { type: "pong" };
    case "status":
      foldClientReports(state.ep.cacheRoot, state.counters);
      return { type: "status", status: statusReport(state) };
    case "stop":
      state.pendingExit ??= { event: "stop", by: "request" };
      control.requestShutdown();
      return { type: "ok", message: "stopping" };
    case "clear":
      if (state.store === null) return { type: "error", code: "cache-unavailable", message: state.storeProblem ?? "" };
      state.store.clear();
      state.ctx.files.clear();
      state.history?.clear();
      return { type: "ok", message: "cache cleared" };
    case "stats-zero":
      state.counters.reset();
      state.persist();
      return { type: "ok", message: "statistics zeroed" };
    case "session-start":
      return { type: "report", report: sessionReport(state.sessions.start(req.journal), false) };
    case "session-stats": {
      const s = state.sessions.get(req.id);
      return { type: "report", report: s === undefined ? null : sessionReport(s, false) };
    }
    case "session-end": {
      const s = state.sessions.end(req.id);
      return { type: "report", report: s === undefined ? null : sessionReport(s, true) };
    }
    case "cleanup": {
      if (state.store === null) return { type: "error", code: "cache-unavailable", message: state.storeProblem ?? "" };
      return { type: "report", report: state.cleanup(req.olderThanSecs) };
    }
    case "add-owners": {
      const added = state.owners.add(req.pids);
      if (!added.ok) return { type: "error", code: "bad-owner", message: added.error };
      if (added.value.length > 0) {
        state.lifecycle.record({ event: "owner-added", owners: added.value });
        state.log.info(`owners now ${state.owners.pids().join(", ")}`);
      }
      return { type: "report", report: { owners: state.owners.pids() } };
    }
    case "explain": {
      const r = state.history?.explain(req.path) ?? null;
      return { type: "report", report: r === null ? null : { ...r } };
    }
    case "verify-session":
      return verifySessionHandler(req, state);
    case "explain-session": {
      const r = explainSession(req.id, req.cwd, state);
      return { type: "report", report: r === null ? null : { ...r } };
    }
    case "build-report": {
      const r = buildReport(req.scope, req.cwd, state);
      return { type: "report", report: r === null ? null : { ...r } };
    }
    default:
      return unreachable(req);
  }
}
