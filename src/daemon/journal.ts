// The compile journal: one JSON line per compile or link, under <root>/logs, rotated by
// size. Environment values come only from an allowlist, so secrets never reach the disk.
import * as fs from "node:fs";
import { RotatingFile } from "../platform/rotating-file.ts";
import type { LogModes } from "./logger.ts";

const MAX_JOURNAL_BYTES = 16 * 1024 * 1024;

/** The only environment variables whose values a journal line may carry. */
export const JOURNAL_ENV_ALLOWLIST = [
  "CPATH",
  "C_INCLUDE_PATH",
  "CPLUS_INCLUDE_PATH",
  "OBJC_INCLUDE_PATH",
  "OBJCPLUS_INCLUDE_PATH",
  "SDKROOT",
  "SOURCE_DATE_EPOCH",
  "LANG",
  "LC_ALL",
  "CARGO_PKG_NAME",
  "CARGO_PKG_VERSION",
  "RUSTFLAGS",
] as const;

export interface JournalLine {
  readonly ts: string;
  readonly session: string | null;
  readonly outcome: string;
  readonly reason: string | null;
  readonly language: string;
  readonly compiler: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly output: string | null;
  readonly exit_code: number | null;
  readonly latency_ms: number;
  readonly saved_ms: number;
  /** Why a cached result is not reproducible bit for bit (e.g. ar-not-deterministic). */
  readonly hints: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** What `explain --session` reads back from a journal line. */
export interface JournalRecord {
  /** The line's `ts`, in ms since the epoch. */
  readonly atMs: number;
  readonly outcome: string;
  readonly reason: string | null;
  readonly language: string;
  readonly output: string | null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A parsed journal line as what `explain --session` reads; null when it lacks ts or outcome. */
export function decodeRecord(raw: Record<string, unknown>): JournalRecord | null {
  const { ts, outcome, reason, language, output } = raw;
  const atMs = typeof ts === "string" ? Date.parse(ts) : Number.NaN;
  if (Number.isNaN(atMs) || typeof outcome !== "string") return null;
  return {
    atMs,
    outcome,
    reason: typeof reason === "string" ? reason : null,
    language: typeof language === "string" ? language : "other",
    output: typeof output === "string" ? output : null,
  };
}

/** The texts of the journal at `file`, its previous generation first; a missing one is left out. */
export function journalGenerations(file: string): string[] {
  const out: string[] = [];
  for (const f of [`${file}.1`, file]) {
    try {
      out.push(fs.readFileSync(f, "utf8"));
    } catch {
      // not rotated yet, or gone
    }
  }
  return out;
}

/**
 * Every parsed line of `texts` that contains `needle` (when given) and that `keep` accepts,
 * oldest first. Lines that do not parse are skipped: a torn last line must not hide the rest.
 */
export function journalLines(
  texts: readonly string[],
  needle: string | null,
  keep: (raw: Record<string, unknown>) => boolean,
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const text of texts) {
    for (const line of text.split("\n")) {
      if (line === "" || (needle !== null && !line.includes(needle))) continue;
      try {
        const parsed: unknown = JSON.parse(line);
        if (isRecord(parsed) && keep(parsed)) out.push(parsed);
      } catch {
        // a torn or foreign line
      }
    }
  }
  return out;
}

/** The lines of `session` in the journal at `file` (its previous generation first), oldest first. */
export function readSessionRecords(file: string, session: string): JournalRecord[] {
  const out: JournalRecord[] = [];
  for (const raw of journalLines(journalGenerations(file), `"session":${JSON.stringify(session)}`, (r) => r.session === session)) {
    const r = decodeRecord(raw);
    if (r !== null) out.push(r);
  }
  return out;
}

export function allowlistedEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of JOURNAL_ENV_ALLOWLIST) {
    const v = env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export class Journal {
  private readonly out = new RotatingFile(MAX_JOURNAL_BYTES);

  constructor(file: string | null, modes: LogModes = { dir: undefined, file: undefined }) {
    this.reopen(file, modes);
  }

  get file(): string | null {
    return this.out.file;
  }

  /** Points the journal at `file` (again), e.g. after the cache root was recreated. */
  reopen(file: string | null, modes: LogModes): void {
    this.out.reopen(file, modes);
  }

  append(line: JournalLine, extraFile: string | null): void {
    const text = `${JSON.stringify(line)}\n`;
    this.out.append(text);
    if (extraFile !== null) {
      try {
        fs.appendFileSync(extraFile, text);
      } catch {
        // a session journal the user pointed somewhere unwritable is their loss, not the build's
      }
    }
  }
}
