// Effective settings: defaults, then the config file in the cache root, then ZCCACHE_* env.
// Every value remembers where it came from, for `zccache config`.
import * as fs from "node:fs";
import * as path from "node:path";
import { err, ok, type Result } from "../platform/result.ts";
import { parseRemoteStorage, type RemoteSpec } from "../store/remote/spec.ts";
import type { DeliveryMode } from "../store/store.ts";

export type Source = "default" | "file" | "env";

export interface Setting<T> {
  readonly value: T;
  readonly source: Source;
}

export interface Config {
  readonly cacheDir: string;
  readonly idleTimeoutSecs: Setting<number>;
  readonly delivery: Setting<DeliveryMode>;
  readonly cacheSizeBytes: Setting<number>;
  readonly logLevel: Setting<"error" | "info" | "debug">;
  /** Directories whose paths are written relative to the cwd in keys and entries (base_dir). */
  readonly baseDirs: Setting<readonly string[]>;
  /** ZCCACHE_PATH_REMAP: add prefix maps so debug info is relative to the cwd. */
  readonly pathRemap: Setting<boolean>;
  /** Remote tiers behind the local store (remote_storage), in the order they are asked. */
  readonly remoteStorage: Setting<readonly RemoteSpec[]>;
  /** Key for the HMAC over manifests written to and read from remotes ("" = none). */
  readonly remoteSecret: Setting<string>;
  /** Words run before the compiler on a C/C++ miss (prefix_command, e.g. distcc). */
  readonly prefixCommand: Setting<readonly string[]>;
  /** Entries unused for longer than this are evicted (max_age); 0 = no age limit. */
  readonly maxAgeSecs: Setting<number>;
  /** zstd level for new blobs (compression_level); 0 = stored uncompressed. */
  readonly compressionLevel: Setting<number>;
  /**
   * preprocessor_fallback: on a direct-mode miss of a C/C++ compile, preprocess it and look
   * the result up by the preprocessed text (ccache's second-level lookup).
   */
  readonly preprocessorFallback: Setting<boolean>;
  /**
   * verify_rate: the share of C/C++ hits the daemon compiles again in the background and
   * compares byte for byte with what it delivered (daemon/verify.ts); 0 = none.
   */
  readonly verifyRate: Setting<number>;
}

type Env = Readonly<Record<string, string | undefined>>;

interface KeySpec<T> {
  readonly env: string;
  readonly file: string;
  readonly parse: (raw: string) => Result<T, string>;
}

export function parseBool(raw: string): Result<boolean, string> {
  const v = raw.trim().toLowerCase();
  if (v === "1" || v === "true") return ok(true);
  if (v === "0" || v === "false") return ok(false);
  return err(`expected 1, 0, true or false, got '${raw}'`);
}

export function parseSize(raw: string): Result<number, string> {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?)?B?\s*$/i.exec(raw);
  if (!m) return err(`expected a size like 500M, 10G or a byte count, got '${raw}'`);
  const n = Number(m[1]);
  const unit = (m[2] ?? "").toUpperCase().replace("I", "");
  const mult: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
  const bytes = Math.floor(n * (mult[unit] ?? 1));
  if (bytes <= 0) return err(`size must be positive, got '${raw}'`);
  return ok(bytes);
}

function parseSecs(raw: string): Result<number, string> {
  if (!/^\s*\d+\s*$/.test(raw)) return err(`expected whole seconds, got '${raw}'`);
  return ok(Number(raw));
}

function parseDelivery(raw: string): Result<DeliveryMode, string> {
  const v = raw.trim();
  if (v === "copy" || v === "hardlink") return ok(v);
  return err(`expected copy or hardlink, got '${raw}'`);
}

function parseLogLevel(raw: string): Result<"error" | "info" | "debug", string> {
  const v = raw.trim();
  if (v === "error" || v === "info" || v === "debug") return ok(v);
  return err(`expected error, info or debug, got '${raw}'`);
}

/** `a:b`: absolute directories, normalised; "/" alone would make every path relative. */
export function parseBaseDirs(raw: string): Result<readonly string[], string> {
  const dirs: string[] = [];
  for (const part of raw.split(":")) {
    const d = part.trim();
    if (!d.startsWith("/")) return err(`expected absolute directories separated by ':', got '${raw}' ('${d}' is not absolute)`);
    const norm = path.resolve(d);
    if (norm === "/") return err(`'/' cannot be a base directory (in '${raw}')`);
    if (!dirs.includes(norm)) dirs.push(norm);
  }
  return ok(dirs);
}

/** What delivery a daemon running as `uid` really uses, and why when it is not what was asked. */
export interface DeliveryChoice {
  readonly mode: DeliveryMode;
  readonly note: string | null;
}

/**
 * Root ignores the blob's read-only bits, so with hardlinks `cp new.o x.o` (or any tool that
 * opens a delivered output for writing) as root would change the cache and every other tree
 * linked to the same blob: as root, hardlink delivery falls back to copy.
 */
export function effectiveDelivery(setting: Setting<DeliveryMode>, uid: number): DeliveryChoice {
  if (setting.value === "hardlink" && uid === 0) {
    return { mode: "copy", note: `hardlink requested via ${setting.source}; falls back to copy when running as root` };
  }
  return { mode: setting.value, note: null };
}

/** "hardlink (env)", or "copy (hardlink requested via env; falls back to copy when running as root)". */
export function describeDelivery(setting: Setting<DeliveryMode>, uid: number): string {
  const c = effectiveDelivery(setting, uid);
  return `${c.mode} (${c.note ?? setting.source})`;
}

function parseSecret(raw: string): Result<string, string> {
  if (raw.trim() !== raw) return err("a secret may not begin or end with whitespace");
  return ok(raw);
}

const AGE_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 7 * 86_400 };

/** ccache's age spelling: `30s`, `15m`, `12h`, `1d`, `2w`, or a bare number of seconds; `0` = none. */
export function parseAge(raw: string): Result<number, string> {
  const m = /^\s*(\d+)\s*([smhdw]?)\s*$/.exec(raw);
  if (m === null) return err(`expected an age like 12h, 1d, 2w or a number of seconds, got '${raw}'`);
  return ok(Number(m[1]) * (AGE_UNITS[m[2] || "s"] ?? 1));
}

/** zstd levels as ccache takes them: 0 = off, 1 (fast) to 19 (small). */
export function parseCompressionLevel(raw: string): Result<number, string> {
  const v = raw.trim();
  if (!/^\d+$/.test(v) || Number(v) > 19) return err(`expected 0 (off) or a zstd level from 1 to 19, got '${raw}'`);
  return ok(Number(v));
}

/** A fraction from 0 to 1 as a decimal number: `0`, `0.01`, `.5`, `1`. */
export function parseRate(raw: string): Result<number, string> {
  const v = raw.trim();
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(v) || Number(v) > 1) return err(`expected a fraction from 0 to 1 (e.g. 0.01), got '${raw}'`);
  return ok(Number(v));
}

function parseWords(raw: string): Result<readonly string[], string> {
  return ok(raw.split(/\s+/).filter((w) => w !== ""));
}

const DEFAULT_CACHE_SIZE_BYTES = 10 * 1024 ** 3;
/** zstd's fast end, as ccache's default: most of the space saved for little time. */
export const DEFAULT_COMPRESSION_LEVEL = 1;

export const SPECS = {
  idleTimeoutSecs: { env: "ZCCACHE_IDLE_TIMEOUT_SECS", file: "idle_timeout_secs", parse: parseSecs },
  delivery: { env: "ZCCACHE_DELIVERY", file: "delivery", parse: parseDelivery },
  cacheSizeBytes: { env: "ZCCACHE_CACHE_SIZE", file: "cache_size", parse: parseSize },
  logLevel: { env: "ZCCACHE_LOG_LEVEL", file: "log_level", parse: parseLogLevel },
  baseDirs: { env: "ZCCACHE_BASE_DIR", file: "base_dir", parse: parseBaseDirs },
  pathRemap: { env: "ZCCACHE_PATH_REMAP", file: "path_remap", parse: parseBool },
  remoteStorage: { env: "ZCCACHE_REMOTE_STORAGE", file: "remote_storage", parse: parseRemoteStorage },
  remoteSecret: { env: "ZCCACHE_REMOTE_SECRET", file: "remote_secret", parse: parseSecret },
  prefixCommand: { env: "ZCCACHE_PREFIX", file: "prefix_command", parse: parseWords },
  maxAgeSecs: { env: "ZCCACHE_MAX_AGE", file: "max_age", parse: parseAge },
  compressionLevel: { env: "ZCCACHE_COMPRESSION_LEVEL", file: "compression_level", parse: parseCompressionLevel },
  preprocessorFallback: { env: "ZCCACHE_PREPROCESSOR_FALLBACK", file: "preprocessor_fallback", parse: parseBool },
  verifyRate: { env: "ZCCACHE_VERIFY_RATE", file: "verify_rate", parse: parseRate },
} as const satisfies Record<string, KeySpec<unknown>>;

const DEFAULTS = {
  idleTimeoutSecs: 3600,
  delivery: "copy" as DeliveryMode,
  cacheSizeBytes: DEFAULT_CACHE_SIZE_BYTES,
  logLevel: "info" as const,
  baseDirs: [] as readonly string[],
  pathRemap: false,
  remoteStorage: [] as readonly RemoteSpec[],
  remoteSecret: "",
  prefixCommand: [] as readonly string[],
  maxAgeSecs: 0,
  compressionLevel: DEFAULT_COMPRESSION_LEVEL,
  preprocessorFallback: false,
  verifyRate: 0,
};

export const CONFIG_FILE_NAME = "zccache.conf";

/** Reads `key = value` lines; unknown keys and bad values are errors naming the line. */
function readConfigFile(file: string): Result<Map<string, { value: string; line: number }>, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return ok(new Map());
  }
  return parseConfigText(text, file);
}

/**
 * Checks a whole config file's text as loadConfig would read it (every key known, every value
 * accepted): what a writer checks before it replaces the file.
 */
export function validateConfigText(text: string, file: string): Result<void, string> {
  const r = parseConfigText(text, file);
  if (!r.ok) return r;
  for (const spec of Object.values(SPECS) as KeySpec<unknown>[]) {
    const v = r.value.get(spec.file);
    if (v === undefined) continue;
    const parsed = spec.parse(v.value);
    if (!parsed.ok) return err(`${file}:${v.line}: ${spec.file}: ${parsed.error}`);
  }
  return ok(undefined);
}

function parseConfigText(text: string, file: string): Result<Map<string, { value: string; line: number }>, string> {
  const known = new Set<string>(Object.values(SPECS).map((s) => s.file));
  const out = new Map<string, { value: string; line: number }>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq < 0) return err(`${file}:${i + 1}: expected 'key = value'`);
    const key = line.slice(0, eq).trim();
    if (!known.has(key)) return err(`${file}:${i + 1}: unknown key '${key}'`);
    out.set(key, { value: line.slice(eq + 1).trim(), line: i + 1 });
  }
  return ok(out);
}

function resolveSetting<T>(
  spec: KeySpec<T>,
  fallback: T,
  env: Env,
  fileValues: Map<string, { value: string; line: number }>,
  file: string,
): Result<Setting<T>, string> {
  // A malformed file is an error even where the environment overrides it: never guess.
  const fromFile = fileValues.get(spec.file);
  let fileSetting: Setting<T> | null = null;
  if (fromFile !== undefined) {
    const r = spec.parse(fromFile.value);
    if (!r.ok) return err(`${file}:${fromFile.line}: ${spec.file}: ${r.error}`);
    fileSetting = { value: r.value, source: "file" };
  }
  const fromEnv = env[spec.env];
  if (fromEnv !== undefined && fromEnv !== "") {
    const r = spec.parse(fromEnv);
    return r.ok ? ok({ value: r.value, source: "env" }) : err(`${spec.env}: ${r.error}`);
  }
  return ok(fileSetting ?? { value: fallback, source: "default" });
}

export function loadConfig(cacheDir: string, env: Env): Result<Config, string> {
  const file = path.join(cacheDir, CONFIG_FILE_NAME);
  const fileValues = readConfigFile(file);
  if (!fileValues.ok) return fileValues;
  const fv = fileValues.value;
  // In SPECS order, so the first bad setting reported is always the same one.
  const settings: Record<string, Setting<unknown>> = {};
  for (const name of Object.keys(SPECS) as (keyof typeof SPECS)[]) {
    const r = resolveSetting(SPECS[name] as KeySpec<unknown>, DEFAULTS[name], env, fv, file);
    if (!r.ok) return r;
    settings[name] = r.value;
  }
  return ok({ cacheDir, ...settings } as unknown as Config);
}
