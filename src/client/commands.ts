// Management commands: start, stop, status, clear, stats, config, version, help.
import { describeDelivery, loadConfig } from "../config/config.ts";
import { endpointFor } from "../protocol/endpoint.ts";
import type { Request, Response } from "../protocol/messages.ts";
import { PRODUCT_VERSION } from "../protocol/version.ts";
import { requestWithStart } from "./connect.ts";
import { lockHolderPid } from "./daemon-process.ts";
import { runtimeDirTrusted } from "./runtime-dir.ts";
import * as path from "node:path";
import { formatExplain, formatSession, formatStatus } from "./status-format.ts";
import { stopCommand } from "./stop.ts";
import { type RoundTripFailure, roundTrip } from "./transport.ts";

const HELP = `zccache ${PRODUCT_VERSION}: a compiler cache for C and C++

Usage:
  zccache <compiler> [args...]   compile through the cache (e.g. zccache gcc -c a.c)
  zccache start                  start the daemon for this cache directory
  zccache stop                   stop it (waits until it has exited; kills it after
                                 ZCCACHE_STOP_TIMEOUT_SECS, default 10)
  zccache status [--json]        hits, misses, reasons, store size, daemon facts
  zccache clear                  remove every cached entry
  zccache stats --zero           reset the counters
  zccache config                 show effective settings and where each came from
  zccache session-start [--journal FILE]
                                 start a build session; prints {"session_id": …}; run the
                                 build with ZCCACHE_SESSION_ID=<id> to count it separately
  zccache session-stats ID [--json]   that session's hits, misses, reasons, time saved
  zccache session-end ID [--json]     the same, and forget the session
  zccache explain FILE [--json]  why the last compile of FILE hit or missed
  zccache version                print the version
  zccache help                   this text

Set ZCCACHE_CACHE_DIR to choose the cache directory; each directory has its own daemon.
`;

interface Writable {
  write(s: string): unknown;
}

export function printHelp(out: Writable): void {
  out.write(HELP);
}

function usageError(msg: string): number {
  process.stderr.write(`zccache: ${msg} (see 'zccache --help')\n`);
  return 2;
}

/** Why the last `ask` got no answer, for noDaemon's one line. */
let lastFailure: RoundTripFailure | null = null;

async function ask(request: Request, start: boolean): Promise<Response | null> {
  const env = process.env;
  const ep = endpointFor(env, process.cwd());
  if (!start && !(await runtimeDirTrusted(ep.runtimeDir))) return null;
  const r = start ? await requestWithStart(ep, env, request) : await roundTrip(ep.socketPath, request);
  if (!r.ok) lastFailure = r.failure;
  return r.ok ? r.response : null;
}

function noDaemon(what: string): number {
  const ep = endpointFor(process.env, process.cwd());
  let why: string;
  if (lastFailure?.kind === "timeout") {
    const pid = lockHolderPid(ep);
    why = `the daemon${pid === null ? "" : ` (pid ${pid})`} is not answering (${lastFailure.detail}); 'zccache stop' kills it`;
  } else if (lastFailure?.kind === "bad-setting") {
    why = lastFailure.detail;
  } else {
    const cfg = loadConfig(ep.cacheRoot, process.env);
    why = cfg.ok ? "the daemon could not be reached" : `the daemon refuses to start: ${cfg.error}`;
  }
  process.stderr.write(`zccache: ${what}: ${why}\n`);
  return 1;
}

export async function commandMain(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "help":
    case "--help":
    case "-h":
      printHelp(process.stdout);
      return 0;
    case "version":
    case "--version":
    case "-V":
      process.stdout.write(`zccache ${PRODUCT_VERSION}\n`);
      return 0;
    case "start": {
      if (rest.length > 0) return usageError(`start takes no arguments`);
      const r = await ask({ type: "ping", clientVersion: PRODUCT_VERSION }, true);
      if (r === null) return noDaemon("start");
      process.stdout.write(`zccache daemon ${r.daemonVersion} running (pid ${r.pid})\n`);
      return 0;
    }
    case "stop": {
      if (rest.length > 0) return usageError(`stop takes no arguments`);
      return stopCommand();
    }
    case "status": {
      const json = rest[0] === "--json";
      if (rest.length > (json ? 1 : 0)) return usageError(`unknown status option '${rest[json ? 1 : 0]}'`);
      const r = await ask({ type: "status", clientVersion: PRODUCT_VERSION }, true);
      if (r === null || r.type !== "status") return noDaemon("status");
      await Bun.write(Bun.stdout, json ? `${JSON.stringify(r.status)}\n` : formatStatus(r.status));
      return 0;
    }
    case "clear": {
      if (rest.length > 0) return usageError(`clear takes no arguments`);
      const r = await ask({ type: "clear", clientVersion: PRODUCT_VERSION }, true);
      if (r === null) return noDaemon("clear");
      if (r.type === "error") {
        process.stderr.write(`zccache: clear: ${r.message}\n`);
        return 1;
      }
      process.stdout.write("zccache: cache cleared\n");
      return 0;
    }
    case "stats": {
      if (rest.length !== 1 || rest[0] !== "--zero") return usageError(`stats takes --zero`);
      const r = await ask({ type: "stats-zero", clientVersion: PRODUCT_VERSION }, true);
      if (r === null) return noDaemon("stats");
      process.stdout.write("zccache: statistics zeroed\n");
      return 0;
    }
    case "session-start": {
      let journal: string | null = null;
      if (rest[0] === "--journal" && rest[1] !== undefined && rest.length === 2) journal = path.resolve(process.cwd(), rest[1]);
      else if (rest.length > 0) return usageError("session-start takes only --journal FILE");
      const r = await ask({ type: "session-start", journal, clientVersion: PRODUCT_VERSION }, true);
      if (r === null || r.type !== "report" || r.report === null) return noDaemon("session-start");
      await Bun.write(Bun.stdout, `${JSON.stringify({ session_id: r.report.session_id })}\n`);
      return 0;
    }
    case "session-stats":
    case "session-end": {
      const [id, ...opts] = rest;
      const json = opts[0] === "--json";
      if (id === undefined || id.startsWith("-") || opts.length > (json ? 1 : 0)) return usageError(`${cmd} takes ID [--json]`);
      const r = await ask({ type: cmd, id, clientVersion: PRODUCT_VERSION }, cmd === "session-stats");
      if (r === null && cmd === "session-end") {
        process.stdout.write(`zccache: no session ${id} (no daemon running)\n`);
        return 0;
      }
      if (r === null || r.type !== "report") return noDaemon(cmd);
      if (r.report === null) {
        if (cmd === "session-end") {
          process.stdout.write(json ? `${JSON.stringify({ session_id: id, known: false })}\n` : `zccache: no session ${id} (already ended or never started)\n`);
          return 0;
        }
        process.stderr.write(`zccache: no session ${id}\n`);
        return 1;
      }
      await Bun.write(Bun.stdout, json ? `${JSON.stringify(r.report)}\n` : formatSession(r.report));
      return 0;
    }
    case "explain": {
      const [file, ...opts] = rest;
      const json = opts[0] === "--json";
      if (file === undefined || opts.length > (json ? 1 : 0)) return usageError("explain takes FILE [--json]");
      const abs = path.resolve(process.cwd(), file);
      const r = await ask({ type: "explain", path: abs, clientVersion: PRODUCT_VERSION }, true);
      if (r === null || r.type !== "report") return noDaemon("explain");
      if (r.report === null) {
        process.stderr.write(`zccache: no compile of ${abs} is recorded\n`);
        return 1;
      }
      await Bun.write(Bun.stdout, json ? `${JSON.stringify(r.report)}\n` : formatExplain(r.report));
      return 0;
    }
    case "config": {
      if (rest.length > 0) return usageError(`config takes no arguments`);
      const ep = endpointFor(process.env, process.cwd());
      const cfg = loadConfig(ep.cacheRoot, process.env);
      if (!cfg.ok) {
        process.stderr.write(`zccache: ${cfg.error}\n`);
        return 1;
      }
      const c = cfg.value;
      const lines = [
        `cache_dir = ${c.cacheDir} (${process.env.ZCCACHE_CACHE_DIR ? "env" : "default"})`,
        `idle_timeout_secs = ${c.idleTimeoutSecs.value} (${c.idleTimeoutSecs.source})`,
        `delivery = ${describeDelivery(c.delivery, process.getuid?.() ?? -1)}`,
        `cache_size = ${c.cacheSizeBytes.value} (${c.cacheSizeBytes.source})`,
        `log_level = ${c.logLevel.value} (${c.logLevel.source})`,
        `base_dir = ${c.baseDirs.value.join(":")} (${c.baseDirs.source})`,
        `path_remap = ${c.pathRemap.value ? 1 : 0} (${c.pathRemap.source})`,
        `remote_storage = ${c.remoteStorage.value.map((r) => r.display).join(" ")} (${c.remoteStorage.source})`,
        `remote_secret = ${c.remoteSecret.value === "" ? "" : "(set)"} (${c.remoteSecret.source})`,
        `prefix_command = ${c.prefixCommand.value.join(" ")} (${c.prefixCommand.source})`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
      return 0;
    }
    default:
      return usageError(`unknown command or option '${cmd}'`);
  }
}
