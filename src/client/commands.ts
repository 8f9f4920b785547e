// Management commands: start, stop, status, clear, stats, config, version, help.
import { loadConfig } from "../config/config.ts";
import { endpointFor } from "../protocol/endpoint.ts";
import type { Request, Response } from "../protocol/messages.ts";
import { PRODUCT_VERSION } from "../protocol/version.ts";
import { requestWithStart, runtimeDirTrusted, waitForExit } from "./connect.ts";
import { formatStatus } from "./status-format.ts";
import { roundTrip } from "./transport.ts";

const HELP = `zccache ${PRODUCT_VERSION}: a compiler cache for C and C++

Usage:
  zccache <compiler> [args...]   compile through the cache (e.g. zccache gcc -c a.c)
  zccache start                  start the daemon for this cache directory
  zccache stop                   stop it (waits until it has exited)
  zccache status [--json]        hits, misses, reasons, store size, daemon facts
  zccache clear                  remove every cached entry
  zccache stats --zero           reset the counters
  zccache config                 show effective settings and where each came from
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

async function ask(request: Request, start: boolean): Promise<Response | null> {
  const env = process.env;
  const ep = endpointFor(env, process.cwd());
  if (!start && !(await runtimeDirTrusted(ep.runtimeDir))) return null;
  const r = start ? await requestWithStart(ep, env, request) : await roundTrip(ep.socketPath, request);
  return r.ok ? r.response : null;
}

function noDaemon(what: string): number {
  process.stderr.write(`zccache: ${what}: the daemon could not be reached\n`);
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
      const r = await ask({ type: "stop" }, false);
      if (r === null) {
        process.stdout.write("zccache: no daemon running\n");
        return 0;
      }
      const exited = await waitForExit(r.pid);
      process.stdout.write(exited ? `zccache daemon stopped (pid ${r.pid})\n` : `zccache: daemon ${r.pid} is still stopping\n`);
      return exited ? 0 : 1;
    }
    case "status": {
      const json = rest[0] === "--json";
      if (rest.length > (json ? 1 : 0)) return usageError(`unknown status option '${rest[json ? 1 : 0]}'`);
      const r = await ask({ type: "status" }, true);
      if (r === null || r.type !== "status") return noDaemon("status");
      await Bun.write(Bun.stdout, json ? `${JSON.stringify(r.status)}\n` : formatStatus(r.status));
      return 0;
    }
    case "clear": {
      if (rest.length > 0) return usageError(`clear takes no arguments`);
      const r = await ask({ type: "clear" }, true);
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
      const r = await ask({ type: "stats-zero" }, true);
      if (r === null) return noDaemon("stats");
      process.stdout.write("zccache: statistics zeroed\n");
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
        `cache_dir = ${c.cacheDir}`,
        `idle_timeout_secs = ${c.idleTimeoutSecs.value} (${c.idleTimeoutSecs.source})`,
        `delivery = ${c.delivery.value} (${c.delivery.source})`,
        `cache_size = ${c.cacheSizeBytes.value} (${c.cacheSizeBytes.source})`,
        `log_level = ${c.logLevel.value} (${c.logLevel.source})`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
      return 0;
    }
    default:
      return usageError(`unknown command or option '${cmd}'`);
  }
}
