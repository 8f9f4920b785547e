// Request and response messages exchanged over frames, and their decoders.
import { err, ok, type Result } from "../platform/result.ts";
import type { ReportScope } from "./session-report.ts";

export interface CompileRequest {
  readonly type: "compile";
  readonly clientVersion: string;
  /** The compiler as the build named it: "gcc", "/usr/bin/clang", … */
  readonly compiler: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /**
   * The client's PID: the daemon reads /proc/<pid>/fd/2 to learn whether the build's
   * stderr is a terminal (asking process.stderr in the client costs ~12 ms of start-up).
   */
  readonly clientPid: number;
  /** Set in symlink mode: our own executable, which PATH lookup must skip. */
  readonly selfExe?: string | undefined;
  readonly sessionId?: string | undefined;
}

/**
 * Every request names the client's product version, so a daemon older than any client that
 * talks to it (compile, status, stop, …) hands over to a newer one.
 */
export type Request =
  | CompileRequest
  | { readonly type: "ping"; readonly clientVersion: string }
  | { readonly type: "status"; readonly clientVersion: string }
  | { readonly type: "stop"; readonly clientVersion: string }
  | { readonly type: "clear"; readonly clientVersion: string }
  | { readonly type: "stats-zero"; readonly clientVersion: string }
  | { readonly type: "session-start"; readonly clientVersion: string; readonly journal: string | null }
  | { readonly type: "session-stats"; readonly clientVersion: string; readonly id: string }
  | { readonly type: "session-end"; readonly clientVersion: string; readonly id: string }
  | { readonly type: "explain"; readonly clientVersion: string; readonly path: string }
  /** A session's misses grouped by cause, from the journal; paths are shown relative to `cwd`. */
  | { readonly type: "explain-session"; readonly clientVersion: string; readonly id: string; readonly cwd: string }
  /**
   * `zccache report`: a session's (or the last minutes') invocations with their rollup, for
   * the client's HTML report (protocol/session-report.ts); paths are shown relative to `cwd`.
   */
  | { readonly type: "build-report"; readonly clientVersion: string; readonly scope: ReportScope; readonly cwd: string }
  /**
   * `zccache verify --session ID`: every hit of the session compiled again (the journal's
   * arguments and cwd, with the asking command's `env`) and compared with the output on disk;
   * answers a report (protocol/verify-report.ts), or null when the session is unknown.
   */
  | {
      readonly type: "verify-session";
      readonly clientVersion: string;
      readonly id: string;
      readonly cwd: string;
      readonly env: Readonly<Record<string, string>>;
    }
  /**
   * `zccache start --owner-pid`: the daemon also exits once these processes (and its other
   * owners) have exited; answers a report {owners}, or an error naming a PID not running.
   */
  | { readonly type: "add-owners"; readonly clientVersion: string; readonly pids: readonly number[] }
  /**
   * Evicts to the size budget and drops entries unused for longer than `olderThanSecs`
   * (or the configured max_age when null); answers a report {evicted, entries, bytes}.
   */
  | { readonly type: "cleanup"; readonly clientVersion: string; readonly olderThanSecs: number | null };

export type RequestType = Request["type"];

/** What the daemon did with a compile, reported to the client. */
export interface CompileResult {
  readonly type: "compile-result";
  readonly exitCode: number;
  readonly stdout: string; // base64
  readonly stderr: string; // base64
  readonly outcome: string;
}

export type ResponseBody =
  | CompileResult
  | {
      readonly type: "run-local";
      readonly reason: string;
      readonly compilerPath?: string;
      /** A line for the user (without the "zccache: " prefix), e.g. a bad ZCCACHE_* value in the build's env. */
      readonly message?: string;
    }
  | { readonly type: "pong" }
  | { readonly type: "status"; readonly status: Record<string, unknown> }
  | { readonly type: "report"; readonly report: Record<string, unknown> | null }
  | { readonly type: "ok"; readonly message?: string }
  | { readonly type: "error"; readonly code: string; readonly message: string };

export type Response = ResponseBody & { readonly daemonVersion: string; readonly pid: number };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return isRecord(v) && Object.values(v).every((x) => typeof x === "string");
}

function decodeScope(v: unknown): ReportScope | null {
  if (!isRecord(v)) return null;
  if (v.kind === "session" && typeof v.id === "string" && v.id !== "") return { kind: "session", id: v.id };
  if (v.kind === "minutes" && typeof v.minutes === "number" && Number.isFinite(v.minutes) && v.minutes > 0) return { kind: "minutes", minutes: v.minutes };
  if (v.kind === "latest") return { kind: "latest" };
  return null;
}

export function decodeRequest(raw: unknown): Result<Request, string> {
  if (!isRecord(raw) || typeof raw.type !== "string") return err("request has no type");
  const clientVersion = raw.clientVersion;
  if (typeof clientVersion !== "string") return err(`${raw.type}: clientVersion must be a string`);
  switch (raw.type) {
    case "compile": {
      const { compiler, args, cwd, env, clientPid, selfExe, sessionId } = raw;
      if (typeof compiler !== "string" || compiler === "") return err("compile: compiler must be a string");
      if (!isStringArray(args)) return err("compile: args must be strings");
      if (typeof cwd !== "string" || !cwd.startsWith("/")) return err("compile: cwd must be absolute");
      if (!isStringRecord(env)) return err("compile: env must map strings to strings");
      if (typeof clientPid !== "number" || !Number.isInteger(clientPid)) return err("compile: clientPid must be an integer");
      if (sessionId !== undefined && typeof sessionId !== "string") return err("compile: bad sessionId");
      if (selfExe !== undefined && typeof selfExe !== "string") return err("compile: bad selfExe");
      return ok({ type: "compile", clientVersion, compiler, args, cwd, env, clientPid, selfExe, sessionId });
    }
    case "ping":
    case "status":
    case "stop":
    case "clear":
    case "stats-zero":
      return ok({ type: raw.type, clientVersion });
    case "session-start":
      if (raw.journal !== null && (typeof raw.journal !== "string" || !raw.journal.startsWith("/"))) {
        return err("session-start: journal must be an absolute path or null");
      }
      return ok({ type: "session-start", journal: raw.journal, clientVersion });
    case "session-stats":
    case "session-end":
      if (typeof raw.id !== "string") return err(`${raw.type}: id must be a string`);
      return ok({ type: raw.type, id: raw.id, clientVersion });
    case "explain":
      if (typeof raw.path !== "string" || !raw.path.startsWith("/")) return err("explain: path must be absolute");
      return ok({ type: "explain", path: raw.path, clientVersion });
    case "explain-session":
      if (typeof raw.id !== "string" || raw.id === "") return err("explain-session: id must be a non-empty string");
      if (typeof raw.cwd !== "string" || !raw.cwd.startsWith("/")) return err("explain-session: cwd must be absolute");
      return ok({ type: "explain-session", id: raw.id, cwd: raw.cwd, clientVersion });
    case "build-report": {
      const scope = decodeScope(raw.scope);
      if (scope === null) return err("build-report: scope must be a session id, a positive number of minutes or latest");
      if (typeof raw.cwd !== "string" || !raw.cwd.startsWith("/")) return err("build-report: cwd must be absolute");
      return ok({ type: "build-report", scope, cwd: raw.cwd, clientVersion });
    }
    case "verify-session":
      if (typeof raw.id !== "string" || raw.id === "") return err("verify-session: id must be a non-empty string");
      if (typeof raw.cwd !== "string" || !raw.cwd.startsWith("/")) return err("verify-session: cwd must be absolute");
      if (!isStringRecord(raw.env)) return err("verify-session: env must map strings to strings");
      return ok({ type: "verify-session", id: raw.id, cwd: raw.cwd, env: raw.env, clientVersion });
    case "add-owners": {
      const raws: unknown[] = Array.isArray(raw.pids) ? raw.pids : [];
      const pids = raws.filter((p): p is number => typeof p === "number" && Number.isInteger(p) && p > 0);
      if (pids.length === 0 || pids.length !== raws.length) return err("add-owners: pids must be positive integers");
      return ok({ type: "add-owners", pids, clientVersion });
    }
    case "cleanup": {
      const secs = raw.olderThanSecs;
      if (secs !== null && (typeof secs !== "number" || !Number.isInteger(secs) || secs < 0)) {
        return err("cleanup: olderThanSecs must be a whole number of seconds or null");
      }
      return ok({ type: "cleanup", olderThanSecs: secs, clientVersion });
    }
    default:
      return err(`unknown request type ${JSON.stringify(raw.type)}`);
  }
}

export function decodeResponse(raw: unknown): Result<Response, string> {
  if (!isRecord(raw) || typeof raw.type !== "string") return err("response has no type");
  if (typeof raw.daemonVersion !== "string" || typeof raw.pid !== "number") return err("response has no daemon identity");
  switch (raw.type) {
    case "compile-result":
      if (typeof raw.exitCode !== "number" || typeof raw.stdout !== "string" || typeof raw.stderr !== "string") {
        return err("compile-result is malformed");
      }
      return ok(raw as unknown as Response);
    case "run-local":
      if (typeof raw.reason !== "string") return err("run-local has no reason");
      if (raw.message !== undefined && typeof raw.message !== "string") return err("run-local message is malformed");
      return ok(raw as unknown as Response);
    case "status":
      if (!isRecord(raw.status)) return err("status has no body");
      return ok(raw as unknown as Response);
    case "pong":
    case "ok":
      return ok(raw as unknown as Response);
    case "report":
      if (raw.report !== null && !isRecord(raw.report)) return err("report is malformed");
      return ok(raw as unknown as Response);
    case "error":
      if (typeof raw.code !== "string" || typeof raw.message !== "string") return err("error is malformed");
      return ok(raw as unknown as Response);
    default:
      return err(`unknown response type ${JSON.stringify(raw.type)}`);
  }
}
