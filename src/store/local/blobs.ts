// Content-addressed blob files under <root>/blobs/<2 hex>/<hash>, written atomically, read-only.
import * as fs from "node:fs";
import * as path from "node:path";
import { type ContentHash, sha256Hex } from "../../platform/hash.ts";
import { mkdirp, removeQuietly, sameSnapshot, siblingTemp, type StatSnapshot, snapshotOf } from "../../platform/fsx.ts";
import { err, errorCode, ok, type Result } from "../../platform/result.ts";
import type { DeliveryMode, MaterializeFailure } from "../store.ts";

export class BlobDir {
  /** Blobs whose content was verified at this stat snapshot (for hardlink delivery). */
  private readonly verified = new Map<string, StatSnapshot>();

  constructor(readonly dir: string) {
    mkdirp(dir);
  }

  pathOf(hash: ContentHash): string {
    return path.join(this.dir, hash.slice(0, 2), hash);
  }

  /** Stores bytes under their hash; returns the hash. Existing blobs are kept as they are. */
  write(bytes: Uint8Array): ContentHash {
    const hash = sha256Hex(bytes);
    const p = this.pathOf(hash);
    if (fs.existsSync(p)) return hash;
    mkdirp(path.dirname(p));
    const tmp = siblingTemp(p);
    try {
      fs.writeFileSync(tmp, bytes, { mode: 0o444 });
      fs.renameSync(tmp, p);
    } catch (e) {
      removeQuietly(tmp);
      throw e;
    }
    return hash;
  }

  remove(hash: ContentHash): void {
    this.verified.delete(hash);
    removeQuietly(this.pathOf(hash));
  }

  /**
   * Writes the blob to `target` through a temp file and a rename, after checking that it
   * still has the content its name says. A corrupt blob is deleted.
   */
  materialize(hash: ContentHash, size: number, target: string, mode: DeliveryMode): Result<void, MaterializeFailure> {
    const src = this.pathOf(hash);
    try {
      if (mode === "hardlink") return this.linkVerified(hash, size, src, target);
      const bytes = fs.readFileSync(src);
      if (bytes.length !== size || sha256Hex(bytes) !== hash) {
        this.remove(hash);
        return err("corrupt");
      }
      const tmp = siblingTemp(target);
      try {
        fs.writeFileSync(tmp, bytes);
        fs.renameSync(tmp, target);
      } catch (e) {
        removeQuietly(tmp);
        throw e;
      }
      return ok(undefined);
    } catch (e) {
      return err(errorCode(e) === "ENOENT" && !fs.existsSync(src) ? "missing" : "io");
    }
  }

  private linkVerified(hash: ContentHash, size: number, src: string, target: string): Result<void, MaterializeFailure> {
    const st = snapshotOf(fs.statSync(src, { bigint: true }));
    const known = this.verified.get(hash);
    if (known === undefined || !sameSnapshot(known, st)) {
      const bytes = fs.readFileSync(src);
      if (bytes.length !== size || sha256Hex(bytes) !== hash) {
        this.remove(hash);
        return err("corrupt");
      }
    }
    const tmp = siblingTemp(target);
    try {
      fs.linkSync(src, tmp);
      // A fresh mtime keeps make's freshness checks right; it is shared by every link.
      const now = new Date();
      fs.utimesSync(tmp, now, now);
      fs.renameSync(tmp, target);
    } catch (e) {
      removeQuietly(tmp);
      throw e;
    }
    this.verified.set(hash, snapshotOf(fs.statSync(src, { bigint: true })));
    return ok(undefined);
  }

  /** Deletes every blob file; the index is cleared by the caller. */
  clear(): void {
    this.verified.clear();
    for (const shard of safeReaddir(this.dir)) {
      fs.rmSync(path.join(this.dir, shard), { recursive: true, force: true });
    }
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
