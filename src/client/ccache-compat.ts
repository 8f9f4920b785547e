// ccache's and sccache's command-line options (`zccache -s`, `-M 5G`, `--print-stats`, …) as
// aliases of our commands: the parse into ordered actions, ccache's size spelling and config
// keys; the output formats are in ccache-format.ts, the work in the operations commands.ts passes in.
import { DEFAULT_COMPRESSION_LEVEL } from "../config/config.ts";
import type { Result } from "../platform/result.ts";
import {
  type ConfigEntry,
  formatCcacheStats,
  formatCompression,
  formatPrintStats,
  formatSccacheJson,
  formatShowConfig,
  humanSize,
} from "./ccache-format.ts";

export type { ConfigEntry } from "./ccache-format.ts";

/** What commands.ts does for an alias; a failure is the exit code, its line already printed. */
export interface CommandOps {
  readonly start: () => Promise<number>;
  readonly stop: () => Promise<number>;
  readonly version: () => number;
  readonly help: () => number;
  readonly clear: () => Promise<number>;
  readonly zeroStats: () => Promise<Result<void, number>>;
  readonly status: () => Promise<Result<Record<string, unknown>, number>>;
  readonly cleanup: (olderThanSecs: number | null) => Promise<Result<Record<string, unknown>, number>>;
  readonly configEntries: () => Result<readonly ConfigEntry[], number>;
  /** Writes one zccache.conf key (our spelling, our value syntax). */
  readonly setConfig: (key: string, value: string) => Result<void, number>;
  readonly parseAge: (raw: string) => Result<number, string>;
  readonly configFile: () => string;
}


type Action =
  | { readonly kind: "show-stats" }
  | { readonly kind: "print-stats" }
  | { readonly kind: "zero-stats" }
  | { readonly kind: "clear" }
  | { readonly kind: "cleanup" }
  | { readonly kind: "evict-older-than"; readonly arg: string }
  | { readonly kind: "max-size"; readonly arg: string }
  | { readonly kind: "set-config"; readonly arg: string }
  | { readonly kind: "show-config" }
  | { readonly kind: "show-compression" }
  | { readonly kind: "version" }
  | { readonly kind: "help" }
  | { readonly kind: "start-server" }
  | { readonly kind: "stop-server" };

interface Parsed {
  readonly actions: readonly Action[];
  readonly verbosity: number;
  readonly format: "text" | "json";
}

const FLAGS: Readonly<Record<string, Action["kind"] | "verbose">> = {
  s: "show-stats",
  z: "zero-stats",
  C: "clear",
  c: "cleanup",
  p: "show-config",
  x: "show-compression",
  V: "version",
  h: "help",
  v: "verbose",
};
const SHORT_WITH_ARG: Readonly<Record<string, "max-size" | "set-config">> = { M: "max-size", o: "set-config" };
const LONG: Readonly<Record<string, Action["kind"] | "verbose" | "stats-format">> = {
  "show-stats": "show-stats",
  verbose: "verbose",
  "zero-stats": "zero-stats",
  clear: "clear",
  cleanup: "cleanup",
  "max-size": "max-size",
  "set-config": "set-config",
  "show-config": "show-config",
  "evict-older-than": "evict-older-than",
  "show-compression": "show-compression",
  version: "version",
  help: "help",
  "print-stats": "print-stats",
  "stats-format": "stats-format",
  "start-server": "start-server",
  "stop-server": "stop-server",
};
const TAKES_ARG = new Set(["max-size", "set-config", "evict-older-than", "stats-format"]);

/**
 * getopt-style, as ccache reads them: bundled short flags (`-sv`), values attached or separate
 * (`-M5G`, `-M 5G`, `--max-size=5G`). Verbosity and the stats format apply wherever they stand;
 * the actions run in order (`-z -s` zeroes, then shows).
 */
export function parseCompatArgs(argv: readonly string[]): Result<Parsed, string> {
  const actions: Action[] = [];
  let verbosity = 0;
  let format: "text" | "json" = "text";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const what = LONG[name];
      if (what === undefined) return { ok: false, error: `unknown command or option '${a}'` };
      let arg: string | undefined;
      if (TAKES_ARG.has(what)) {
        arg = eq >= 0 ? a.slice(eq + 1) : argv[++i];
        if (arg === undefined) return { ok: false, error: `option '--${name}' needs a value` };
      } else if (eq >= 0) return { ok: false, error: `option '--${name}' takes no value` };
      if (what === "verbose") verbosity++;
      else if (what === "stats-format") {
        if (arg !== "json" && arg !== "text") return { ok: false, error: `--stats-format takes json or text, got '${arg}'` };
        format = arg;
      } else if (what === "max-size" || what === "set-config" || what === "evict-older-than") actions.push({ kind: what, arg: arg as string });
      else actions.push({ kind: what });
      continue;
    }
    if (!a.startsWith("-") || a === "-") return { ok: false, error: `unknown command or option '${a}'` };
    for (let j = 1; j < a.length; j++) {
      const ch = a[j] as string;
      const withArg = SHORT_WITH_ARG[ch];
      if (withArg !== undefined) {
        const arg = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
        if (arg === undefined) return { ok: false, error: `option '-${ch}' needs a value` };
        actions.push({ kind: withArg, arg });
        break;
      }
      const flag = FLAGS[ch];
      if (flag === undefined) return { ok: false, error: `unknown command or option '-${ch}'${a.length > 2 ? ` (in '${a}')` : ""}` };
      if (flag === "verbose") verbosity++;
      else actions.push({ kind: flag } as Action);
    }
  }
  return { ok: true, value: { actions, verbosity, format } };
}

const DECIMAL: Readonly<Record<string, number>> = { "": 1e9, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
const BINARY: Readonly<Record<string, number>> = { k: 1024, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/**
 * ccache's SIZE for `-M` and `max_size`: a number and an optional suffix k, M, G, T (powers
 * of 1000) or Ki, Mi, Gi, Ti (powers of 1024), optionally followed by B; no suffix means G.
 * `0` (ccache's "no limit") comes back as 0 for the caller to refuse.
 */
export function parseCcacheSize(raw: string): Result<number, string> {
  const m = /^\s*(\d+(?:\.\d*)?)\s*(?:([kKMGT])(i?)B?)?\s*$/.exec(raw);
  if (m === null) return { ok: false, error: `invalid size '${raw}' (expected e.g. 500M, 5G, 1.5Gi; no suffix means G)` };
  const unit = m[2] ?? "";
  const mult = m[3] === "i" ? (BINARY[unit] as number) : (DECIMAL[unit] as number);
  return { ok: true, value: Math.floor(Number(m[1]) * mult) };
}

/**
 * ccache's `-o` keys that mean one of ours; everything else must be one of our own keys.
 * `max_size` takes ccache's SIZE (decimal units, default G) and is written as bytes;
 * `compression` and `hard_link` become compression_level and delivery.
 */
function translateSetting(key: string, value: string, currentLevel: string): Result<{ key: string; value: string }, string> {
  switch (key) {
    case "max_size": {
      const r = parseCcacheSize(value);
      if (!r.ok) return r;
      if (r.value === 0) return { ok: false, error: NO_UNLIMITED };
      return { ok: true, value: { key: "cache_size", value: String(r.value) } };
    }
    case "secondary_storage":
      return { ok: true, value: { key: "remote_storage", value } };
    case "hard_link": {
      const v = value.trim().toLowerCase();
      if (v !== "true" && v !== "false") return { ok: false, error: `hard_link: expected true or false, got '${value}'` };
      return { ok: true, value: { key: "delivery", value: v === "true" ? "hardlink" : "copy" } };
    }
    case "compression": {
      const v = value.trim().toLowerCase();
      if (v !== "true" && v !== "false") return { ok: false, error: `compression: expected true or false, got '${value}'` };
      // true keeps a level already chosen and otherwise turns on the default one.
      const level = v === "false" ? "0" : currentLevel !== "0" ? currentLevel : String(DEFAULT_COMPRESSION_LEVEL);
      return { ok: true, value: { key: "compression_level", value: level } };
    }
    default:
      return { ok: true, value: { key, value } };
  }
}

const NO_UNLIMITED = "a size of 0 (ccache's 'no limit') is not supported: the cache always has a budget; give a size such as 50G";

/** Runs ccache/sccache-style options; the exit code of the first failing action, else 0. */
export async function compatMain(argv: readonly string[], ops: CommandOps, usageError: (msg: string) => number): Promise<number> {
  const parsed = parseCompatArgs(argv);
  if (!parsed.ok) return usageError(parsed.error);
  const { actions, verbosity, format } = parsed.value;
  const fail = (msg: string): number => {
    process.stderr.write(`zccache: ${msg}\n`);
    return 1;
  };
  for (const action of actions) {
    let code = 0;
    switch (action.kind) {
      case "version":
        code = ops.version();
        break;
      case "help":
        code = ops.help();
        break;
      case "start-server":
        code = await ops.start();
        break;
      case "stop-server":
        code = await ops.stop();
        break;
      case "clear":
        code = await ops.clear();
        break;
      case "zero-stats": {
        const r = await ops.zeroStats();
        if (r.ok) process.stdout.write("Statistics zeroed\n");
        else code = r.error;
        break;
      }
      case "show-stats":
      case "print-stats":
      case "show-compression": {
        const r = await ops.status();
        if (!r.ok) {
          code = r.error;
          break;
        }
        const s = r.value;
        const text =
          action.kind === "print-stats"
            ? formatPrintStats(s)
            : action.kind === "show-compression"
              ? formatCompression(s)
              : format === "json"
                ? formatSccacheJson(s)
                : formatCcacheStats(s, verbosity, ops.configFile());
        await Bun.write(Bun.stdout, text);
        break;
      }
      case "cleanup":
      case "evict-older-than": {
        let secs: number | null = null;
        if (action.kind === "evict-older-than") {
          const age = ops.parseAge(action.arg);
          if (!age.ok) return fail(`--evict-older-than: ${age.error}`);
          secs = age.value;
        }
        const r = await ops.cleanup(secs);
        if (!r.ok) {
          code = r.error;
          break;
        }
        const rep = r.value;
        const n = (v: unknown): number => (typeof v === "number" ? v : 0);
        process.stdout.write(`Evicted ${n(rep.evicted)} entries; ${n(rep.entries)} entries (${humanSize(n(rep.bytes))}) remain\n`);
        break;
      }
      case "max-size": {
        const size = parseCcacheSize(action.arg);
        if (!size.ok) return fail(`-M: ${size.error}`);
        if (size.value === 0) return fail(`-M: ${NO_UNLIMITED}`);
        const w = ops.setConfig("cache_size", String(size.value));
        if (!w.ok) return w.error;
        process.stdout.write(`Set cache size limit to ${humanSize(size.value)}\n`);
        break;
      }
      case "set-config": {
        const eq = action.arg.indexOf("=");
        if (eq <= 0) return fail(`-o: expected KEY=VALUE, got '${action.arg}'`);
        const key = action.arg.slice(0, eq).trim();
        let level = "0";
        if (key === "compression") {
          const entries = ops.configEntries();
          if (!entries.ok) return entries.error;
          level = entries.value.find((e) => e.key === "compression_level")?.value ?? "0";
        }
        const t = translateSetting(key, action.arg.slice(eq + 1), level);
        if (!t.ok) return fail(`-o: ${t.error}`);
        const w = ops.setConfig(t.value.key, t.value.value);
        if (!w.ok) return w.error;
        break;
      }
      case "show-config": {
        const r = ops.configEntries();
        if (!r.ok) return r.error;
        process.stdout.write(formatShowConfig(r.value, ops.configFile()));
        break;
      }
    }
    if (code !== 0) return code;
  }
  return 0;
}
