// The daemon's log file, size-bounded by rotating to one previous generation.
import { type FileModes, RotatingFile } from "../platform/rotating-file.ts";

const MAX_LOG_BYTES = 4 * 1024 * 1024;

export type LogLevel = "error" | "info" | "debug";
const RANK: Record<LogLevel, number> = { error: 0, info: 1, debug: 2 };

/** Modes for the log's directory and file (undefined = the umask's default). */
export type LogModes = FileModes;

export class Logger {
  private readonly out = new RotatingFile(MAX_LOG_BYTES);

  constructor(
    file: string | null,
    private readonly level: LogLevel,
    modes: LogModes = { dir: undefined, file: undefined },
  ) {
    this.reopen(file, modes);
  }

  get file(): string | null {
    return this.out.file;
  }

  /** Points the log at `file` (again), e.g. after the cache root was recreated. */
  reopen(file: string | null, modes: LogModes): void {
    this.out.reopen(file, modes);
  }

  log(level: LogLevel, msg: string): void {
    if (RANK[level] > RANK[this.level]) return;
    this.out.append(`${new Date().toISOString()} ${level} pid=${process.pid} ${msg}\n`);
  }

  error(msg: string): void {
    this.log("error", msg);
  }
  info(msg: string): void {
    this.log("info", msg);
  }
  debug(msg: string): void {
    this.log("debug", msg);
  }
}
