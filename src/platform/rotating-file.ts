// An append-only text file bounded by size: past the bound it rotates to one previous
// generation (`<file>.1`). Appends never throw: a log must never break what it records.
import * as fs from "node:fs";
import * as path from "node:path";

/** Modes for the file's directory and the file (undefined = the umask's default). */
export interface FileModes {
  readonly dir: number | undefined;
  readonly file: number | undefined;
}

export class RotatingFile {
  private bytes = 0;
  private fileMode: number | undefined;
  /** Kept open between appends (one write per line, not an open and a close too). */
  private fd: number | null = null;
  file: string | null = null;

  constructor(private readonly maxBytes: number) {}

  /** Points at `file` (again), e.g. after the directory holding it was recreated. */
  reopen(file: string | null, modes: FileModes): void {
    this.closeFd();
    this.file = file;
    this.fileMode = modes.file;
    this.bytes = 0;
    if (file === null) return;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: modes.dir });
      this.bytes = fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    } catch {
      this.file = null;
    }
  }

  append(text: string): void {
    if (this.file === null) return;
    try {
      if (this.bytes + text.length > this.maxBytes) {
        this.closeFd();
        fs.renameSync(this.file, `${this.file}.1`);
        this.bytes = 0;
      }
      this.fd ??= fs.openSync(this.file, "a", this.fileMode);
      fs.writeSync(this.fd, text);
      this.bytes += text.length;
    } catch {
      // A full disk or a vanished directory costs the line, never the caller; the next
      // append opens the file afresh.
      this.closeFd();
    }
  }

  close(): void {
    this.closeFd();
  }

  private closeFd(): void {
    if (this.fd === null) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already unusable
    }
    this.fd = null;
  }
}
