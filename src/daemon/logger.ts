// The daemon's log file, size-bounded by rotating to one previous generation.
import * as fs from "node:fs";
import * as path from "node:path";

const MAX_LOG_BYTES = 4 * 1024 * 1024;

export type LogLevel = "error" | "info" | "debug";
const RANK: Record<LogLevel, number> = { error: 0, info: 1, debug: 2 };

export class Logger {
  private bytes = 0;
  constructor(
    readonly file: string | null,
    private readonly level: LogLevel,
  ) {
    if (file !== null) {
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        this.bytes = fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
      } catch {
        this.file = null;
      }
    }
  }

  log(level: LogLevel, msg: string): void {
    if (this.file === null || RANK[level] > RANK[this.level]) return;
    const line = `${new Date().toISOString()} ${level} pid=${process.pid} ${msg}\n`;
    try {
      if (this.bytes + line.length > MAX_LOG_BYTES) {
        fs.renameSync(this.file, `${this.file}.1`);
        this.bytes = 0;
      }
      fs.appendFileSync(this.file, line);
      this.bytes += line.length;
    } catch {
      // logging must never break serving
    }
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
