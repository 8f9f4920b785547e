// The compile journal: one JSON line per compile or link, under <root>/logs, rotated by
// size. Environment values come only from an allowlist, so secrets never reach the disk.
import * as fs from "node:fs";
import * as path from "node:path";

const MAX_JOURNAL_BYTES = 16 * 1024 * 1024;

/** The only environment variables whose values a journal line may carry. */
export const JOURNAL_ENV_ALLOWLIST = [
  "CPATH",
  "C_INCLUDE_PATH",
  "CPLUS_INCLUDE_PATH",
  "OBJC_INCLUDE_PATH",
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

export function allowlistedEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of JOURNAL_ENV_ALLOWLIST) {
    const v = env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export class Journal {
  private bytes = 0;

  constructor(readonly file: string | null) {
    if (file === null) return;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      this.bytes = fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    } catch {
      this.file = null;
    }
  }

  append(line: JournalLine, extraFile: string | null): void {
    const text = `${JSON.stringify(line)}\n`;
    if (this.file !== null) {
      try {
        if (this.bytes + text.length > MAX_JOURNAL_BYTES) {
          fs.renameSync(this.file, `${this.file}.1`);
          this.bytes = 0;
        }
        fs.appendFileSync(this.file, text);
        this.bytes += text.length;
      } catch {
        // the journal must never break serving
      }
    }
    if (extraFile !== null) {
      try {
        fs.appendFileSync(extraFile, text);
      } catch {
        // a session journal the user pointed somewhere unwritable is their loss, not the build's
      }
    }
  }
}
