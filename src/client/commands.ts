// Management commands: start, stop, status, clear, stats, config, version, help, and the
// ccache/sccache options (ccache-compat.ts), which call the same operations.
import { CONFIG_FILE_NAME, type Config, describeDelivery, loadConfig, parseAge } from "../config/config.ts";
import { envOverrideFor, setConfigValue } from "../config/config-file.ts";
import { err, ok, type Result } from "../platform/result.ts";
import { endpointFor } from "../protocol/endpoint.ts";
import type { Request, Response } from "../protocol/messages.ts";
import { PRODUCT_VERSION } from "../protocol/version.ts";
import { requestWithStart } from "./connect.ts";
import { OWNER_PID_ENV, START_REASON_ENV, parseOwnerPids } from "../protocol/daemon-start.ts";
import { lockHolderPid, seeProcess } from "./daemon-process.ts";
import { runtimeDirTrusted } from "./runtime-dir.ts";
import * as path from "node:path";
import { type CommandOps, type ConfigEntry, compatMain } from "./ccache-compat.ts";
import { formatExplain, formatSession, formatStatus } from "./status-format.ts";
import { formatRollup } from "./rollup-format.ts";
import { decodeRollup } from "../protocol/session-rollup.ts";
import { stopCommand } from "./stop.ts";
import { type RoundTripFailure, roundTrip } from "./transport.ts";

const HELP = `zccache ${PRODUCT_VERSION}: a compiler cache for C and C++

Usage:
  zccache <compiler> [args...]   compile through the cache (e.g. zccache gcc -c a.c)
  zccache start [--owner-pid PID[,PID...]]...
                                 start the daemon for this cache directory; with owners
                                 (also ZCCACHE_OWNER_PID), it exits once all have exited
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
  zccache explain --session ID [--json]
                                 that session's misses grouped by cause, largest first;
                                 uncacheable invocations with how to make them cacheable
  zccache report [ID | --minutes N] --html FILE [--open]
                                 one self-contained HTML file for a session (default: the
                                 latest in the journal) or the last N minutes: hit rate,
                                 time saved, timeline, miss causes; --open prints its URL
  zccache verify --session ID [--json]
                                 compile every hit of that session again and compare it
                                 byte for byte with the output on disk; exit 1 on a mismatch
  zccache doctor                 check what a working cache needs here; exit 1 on a failure
  zccache version                print the version
  zccache help                   this text

ccache and sccache options (aliases of the commands above):
  -s, --show-stats [-v [-v]]     statistics in ccache's layout (status)
  --show-stats --stats-format json   statistics as sccache's JSON
  --print-stats                  ccache's counters, tab-separated
  -z, --zero-stats               stats --zero
  -C, --clear                    clear
  -c, --cleanup                  evict down to the size limit and max_age now
  --evict-older-than AGE         evict entries unused for AGE (30s, 15m, 12h, 1d, 2w)
  -M, --max-size SIZE            set cache_size in zccache.conf; SIZE as ccache reads it:
                                 k, M, G, T are powers of 1000, Ki, Mi, Gi, Ti of 1024, no
                                 suffix means G (5G = 5000000000 bytes); 0 is refused
  -o, --set-config KEY=VALUE     set KEY in zccache.conf (ours, or ccache's max_size,
                                 compression, hard_link, secondary_storage)
  -p, --show-config              config, as ccache's "(source) key = value"
  -x, --show-compression         stored against original size, compression level
  -V, --version                  version
  --start-server, --stop-server  start, stop

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

/**
 * Starts the daemon (or finds it running) and adds `owners` to it. A daemon spawned here
 * learns from its environment that `start` started it, and its owners.
 */
async function startDaemon(owners: readonly number[] = []): Promise<number> {
  const env: Record<string, string | undefined> = { ...process.env, [START_REASON_ENV]: "start" };
  if (owners.length > 0) env[OWNER_PID_ENV] = owners.join(",");
  const request: Request =
    owners.length > 0 ? { type: "add-owners", pids: owners, clientVersion: PRODUCT_VERSION } : { type: "ping", clientVersion: PRODUCT_VERSION };
  const r = await requestWithStart(endpointFor(env, process.cwd()), env, request);
  if (!r.ok) lastFailure = r.failure;
  if (!r.ok) return noDaemon("start");
  if (r.response.type === "error") {
    process.stderr.write(`zccache: start: ${r.response.message}\n`);
    return 1;
  }
  const listed = r.response.type === "report" && Array.isArray(r.response.report?.owners) ? `, owners ${r.response.report.owners.join(", ")}` : "";
  process.stdout.write(`zccache daemon ${r.response.daemonVersion} running (pid ${r.response.pid})${listed}\n`);
  return 0;
}

/** `start`'s owners: every --owner-pid (repeatable, each a comma list) and ZCCACHE_OWNER_PID, all running now. */
function startOwners(args: readonly string[]): Result<number[], { code: number; message: string }> {
  const texts: string[] = [];
  const fromEnv = process.env[OWNER_PID_ENV];
  if (fromEnv !== undefined && fromEnv !== "") texts.push(fromEnv);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (a.startsWith("--owner-pid=")) texts.push(a.slice("--owner-pid=".length));
    else if (a === "--owner-pid" && args[i + 1] !== undefined) texts.push(args[++i] ?? "");
    else if (a === "--owner-pid") return err({ code: 2, message: "--owner-pid needs a PID" });
    else return err({ code: 2, message: `unknown start option '${a}' (see 'zccache --help')` });
  }
  const pids: number[] = [];
  for (const t of texts) {
    const r = parseOwnerPids(t);
    if (!r.ok) return err({ code: 2, message: r.error });
    for (const pid of r.value) {
      if (seeProcess(pid) === null) return err({ code: 1, message: `owner PID ${pid} is not a running process` });
      if (!pids.includes(pid)) pids.push(pid);
    }
  }
  return ok(pids);
}

async function clearCache(): Promise<number> {
  const r = await ask({ type: "clear", clientVersion: PRODUCT_VERSION }, true);
  if (r === null) return noDaemon("clear");
  if (r.type === "error") {
    process.stderr.write(`zccache: clear: ${r.message}\n`);
    return 1;
  }
  process.stdout.write("zccache: cache cleared\n");
  return 0;
}

async function zeroStats(): Promise<Result<void, number>> {
  const r = await ask({ type: "stats-zero", clientVersion: PRODUCT_VERSION }, true);
  return r === null ? err(noDaemon("stats")) : ok(undefined);
}

async function fetchStatus(): Promise<Result<Record<string, unknown>, number>> {
  const r = await ask({ type: "status", clientVersion: PRODUCT_VERSION }, true);
  return r === null || r.type !== "status" ? err(noDaemon("status")) : ok(r.status);
}

async function cleanup(olderThanSecs: number | null): Promise<Result<Record<string, unknown>, number>> {
  const r = await ask({ type: "cleanup", olderThanSecs, clientVersion: PRODUCT_VERSION }, true);
  if (r !== null && r.type === "error") {
    process.stderr.write(`zccache: cleanup: ${r.message}\n`);
    return err(1);
  }
  return r === null || r.type !== "report" || r.report === null ? err(noDaemon("cleanup")) : ok(r.report);
}

/** Every effective setting with its source, for `config` and `-p`. */
function configEntries(c: Config): ConfigEntry[] {
  const entry = (key: string, value: string, source: ConfigEntry["source"]): ConfigEntry => ({ key, value, source });
  return [
    entry("cache_dir", c.cacheDir, process.env.ZCCACHE_CACHE_DIR ? "env" : "default"),
    entry("idle_timeout_secs", String(c.idleTimeoutSecs.value), c.idleTimeoutSecs.source),
    entry("delivery", c.delivery.value, c.delivery.source),
    entry("cache_size", String(c.cacheSizeBytes.value), c.cacheSizeBytes.source),
    entry("log_level", c.logLevel.value, c.logLevel.source),
    entry("base_dir", c.baseDirs.value.join(":"), c.baseDirs.source),
    entry("path_remap", c.pathRemap.value ? "1" : "0", c.pathRemap.source),
    entry("remote_storage", c.remoteStorage.value.map((r) => r.display).join(" "), c.remoteStorage.source),
    entry("remote_secret", c.remoteSecret.value === "" ? "" : "(set)", c.remoteSecret.source),
    entry("prefix_command", c.prefixCommand.value.join(" "), c.prefixCommand.source),
    entry("max_age", String(c.maxAgeSecs.value), c.maxAgeSecs.source),
    entry("compression_level", String(c.compressionLevel.value), c.compressionLevel.source),
    entry("preprocessor_fallback", c.preprocessorFallback.value ? "1" : "0", c.preprocessorFallback.source),
    entry("verify_rate", String(c.verifyRate.value), c.verifyRate.source),
  ];
}

function readConfig(): Result<Config, number> {
  const ep = endpointFor(process.env, process.cwd());
  const cfg = loadConfig(ep.cacheRoot, process.env);
  if (cfg.ok) return cfg;
  process.stderr.write(`zccache: ${cfg.error}\n`);
  return err(1);
}

/** Writes KEY = VALUE into zccache.conf; says so when the environment overrides the key. */
function setConfig(key: string, value: string): Result<void, number> {
  const root = endpointFor(process.env, process.cwd()).cacheRoot;
  const r = setConfigValue(root, key, value);
  if (!r.ok) {
    process.stderr.write(`zccache: ${r.error}\n`);
    return err(1);
  }
  const env = envOverrideFor(key);
  if (env !== null && process.env[env]) process.stderr.write(`zccache: note: ${env} in the environment overrides ${key} from ${r.value}\n`);
  return ok(undefined);
}

const COMPAT_OPS: CommandOps = {
  start: startDaemon,
  stop: stopCommand,
  version: () => {
    process.stdout.write(`zccache ${PRODUCT_VERSION}\n`);
    return 0;
  },
  help: () => {
    printHelp(process.stdout);
    return 0;
  },
  clear: clearCache,
  zeroStats,
  status: fetchStatus,
  cleanup,
  configEntries: () => {
    const c = readConfig();
    return c.ok ? ok(configEntries(c.value)) : c;
  },
  setConfig,
  parseAge,
  configFile: () => path.join(endpointFor(process.env, process.cwd()).cacheRoot, CONFIG_FILE_NAME),
};

export async function commandMain(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "help":
      return COMPAT_OPS.help();
    case "version":
      return COMPAT_OPS.version();
    case "start": {
      const owners = startOwners(rest);
      if (!owners.ok) process.stderr.write(`zccache: start: ${owners.error.message}\n`);
      return owners.ok ? startDaemon(owners.value) : owners.error.code;
    }
    case "stop": {
      if (rest.length > 0) return usageError(`stop takes no arguments`);
      return stopCommand();
    }
    case "status": {
      const json = rest[0] === "--json";
      if (rest.length > (json ? 1 : 0)) return usageError(`unknown status option '${rest[json ? 1 : 0]}'`);
      const r = await fetchStatus();
      if (!r.ok) return r.error;
      await Bun.write(Bun.stdout, json ? `${JSON.stringify(r.value)}\n` : formatStatus(r.value));
      return 0;
    }
    case "clear": {
      if (rest.length > 0) return usageError(`clear takes no arguments`);
      return clearCache();
    }
    case "stats": {
      if (rest.length !== 1 || rest[0] !== "--zero") return usageError(`stats takes --zero`);
      const r = await zeroStats();
      if (!r.ok) return r.error;
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
      if (rest[0] === "--session") {
        const [, id, ...sOpts] = rest;
        const sJson = sOpts[0] === "--json";
        if (id === undefined || id.startsWith("-") || sOpts.length > (sJson ? 1 : 0)) return usageError("explain takes --session ID [--json]");
        const r = await ask({ type: "explain-session", id, cwd: process.cwd(), clientVersion: PRODUCT_VERSION }, true);
        if (r === null || r.type !== "report") return noDaemon("explain");
        if (r.report === null) {
          process.stderr.write(`zccache: no session ${id} in the compile journal (never started, or rotated out)\n`);
          return 1;
        }
        const rollup = decodeRollup(r.report);
        if (rollup === null) return noDaemon("explain");
        await Bun.write(Bun.stdout, sJson ? `${JSON.stringify(rollup)}\n` : formatRollup(rollup));
        return 0;
      }
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
    case "report": {
      const { parseReportArgs, writeReport } = await import("./report.ts");
      const args = parseReportArgs(rest, process.cwd());
      if (!args.ok) return usageError(args.error);
      const r = await ask({ type: "build-report", scope: args.value.scope, cwd: process.cwd(), clientVersion: PRODUCT_VERSION }, true);
      if (r === null || r.type !== "report") return noDaemon("report");
      return writeReport(r.report, args.value);
    }
    case "verify": {
      const [flag, id, ...vOpts] = rest;
      const vJson = vOpts[0] === "--json";
      if (flag !== "--session" || id === undefined || id.startsWith("-") || vOpts.length > (vJson ? 1 : 0)) {
        return usageError("verify takes --session ID [--json]");
      }
      // The compiles run again with this command's environment (PATH finds the compilers).
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
      const r = await ask({ type: "verify-session", id, cwd: process.cwd(), env, clientVersion: PRODUCT_VERSION }, true);
      if (r !== null && r.type === "error") {
        process.stderr.write(`zccache: verify: ${r.message}\n`);
        return 1;
      }
      if (r === null || r.type !== "report") return noDaemon("verify");
      if (r.report === null) {
        process.stderr.write(`zccache: no session ${id} in the compile journal (never started, or rotated out)\n`);
        return 1;
      }
      const { decodeVerifyReport, formatVerify, verifyExitCode } = await import("./verify-format.ts");
      const report = decodeVerifyReport(r.report);
      if (report === null) return noDaemon("verify");
      await Bun.write(Bun.stdout, vJson ? `${JSON.stringify(report)}\n` : formatVerify(report, process.cwd()));
      return verifyExitCode(report);
    }
    case "doctor": {
      if (rest.length > 0) return usageError(`doctor takes no arguments`);
      const { doctorMain } = await import("./doctor.ts");
      return doctorMain();
    }
    case "config": {
      if (rest.length > 0) return usageError(`config takes no arguments`);
      const cfg = readConfig();
      if (!cfg.ok) return cfg.error;
      const lines = configEntries(cfg.value).map((e) =>
        e.key === "delivery" ? `delivery = ${describeDelivery(cfg.value.delivery, process.getuid?.() ?? -1)}` : `${e.key} = ${e.value} (${e.source})`,
      );
      process.stdout.write(`${lines.join("\n")}\n`);
      return 0;
    }
    default:
      // ccache's and sccache's options (-s, -M 5G, --print-stats, --start-server, …).
      if (cmd?.startsWith("-")) return compatMain(argv, COMPAT_OPS, usageError);
      return usageError(`unknown command or option '${cmd}'`);
  }
}
