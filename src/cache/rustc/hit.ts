// Delivers a Rust entry: each output to the path this invocation names for its role (so
// another target dir gets cargo's names), the dep-info filled in for this tree, and the
// diagnostics replayed with this invocation's artifact paths.
import * as fs from "node:fs";
import * as path from "node:path";
import { fillDepInfoTemplate } from "../../compilers/rustc/depinfo.ts";
import { fillStderrTemplate } from "../../compilers/rustc/diagnostics.ts";
import { removeQuietly, writeFileAtomic } from "../../platform/fsx.ts";
import { err, ok, type Result } from "../../platform/result.ts";
import type { MaterializeFailure, OutputRecord, StoredEntry } from "../../store/store.ts";
import type { CompileReply } from "../context.ts";
import type { RustJob } from "./handle.ts";

let scratchCounter = 0;

function deliverDepInfo(job: RustJob, stored: OutputRecord, target: string): Result<void, MaterializeFailure> {
  const { ctx, req } = job;
  const store = ctx.store;
  if (store === null) return err("io");
  scratchCounter++;
  const scratch = path.join(ctx.tmpDir, `rust-dep-${process.pid}-${scratchCounter}.d`);
  try {
    const r = store.materialize({ ...stored, path: scratch }, "copy");
    if (!r.ok) return r;
    const filled = fillDepInfoTemplate(fs.readFileSync(scratch, "utf8"), job.outputs, req.cwd);
    if (filled === null) return err("corrupt");
    writeFileAtomic(target, filled);
    return ok(undefined);
  } catch {
    return err("io");
  } finally {
    removeQuietly(scratch);
  }
}

/** Programs and proc-macro libraries: the store keeps no modes, rustc makes these executable. */
function isExecutable(role: string): boolean {
  return role === "link:bin" || role === "link:proc-macro";
}

/** Crate files a dependent may name with --extern next: worth remembering by hash. */
function isCrateFile(role: string): boolean {
  return role === "metadata" || role.startsWith("link:");
}

export function deliverRustHit(job: RustJob, entry: StoredEntry): Result<CompileReply, MaterializeFailure> {
  const { ctx } = job;
  const store = ctx.store;
  if (store === null) return err("io");
  const stderr = fillStderrTemplate(Buffer.from(entry.stderr, "base64"), job.outputs);
  if (stderr === null) return err("corrupt");
  for (const out of job.outputs) {
    const stored = entry.outputs.find((o) => o.role === out.role);
    if (stored === undefined) return err("corrupt");
    if (!fs.existsSync(path.dirname(out.path))) return err("io");
    const r = out.role === "dep-info" ? deliverDepInfo(job, stored, out.path) : store.materialize({ ...stored, path: out.path }, ctx.deliveryMode);
    if (!r.ok) return r;
    if (isExecutable(out.role)) {
      try {
        // A hardlink shares the read-only blob's inode: keep it read-only.
        fs.chmodSync(out.path, ctx.deliveryMode === "hardlink" ? 0o555 : 0o755);
      } catch {
        return err("io");
      }
    }
    if (isCrateFile(out.role)) job.known.record(out.path, stored.hash);
  }
  store.touch(entry.id);
  ctx.stats.record({ kind: "hit" }, "rust");
  return ok({
    kind: "result",
    exitCode: entry.exitCode,
    stdout: Buffer.from(entry.stdout, "base64"),
    stderr,
    outcome: "hit",
  });
}
