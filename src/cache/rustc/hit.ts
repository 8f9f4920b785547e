// The Rust adapter for the serve loop. A hit delivers each output to the path this
// invocation names for its role (so another target dir gets cargo's names), the dep-info
// filled in for this tree, and the diagnostics replayed with this invocation's artifact paths.
import * as fs from "node:fs";
import * as path from "node:path";
import { fillDepInfoTemplate } from "../../compilers/rustc/depinfo.ts";
import { fillStderrTemplate } from "../../compilers/rustc/diagnostics.ts";
import { removeQuietly, writeFileAtomic } from "../../platform/fsx.ts";
import { err, ok, type Result } from "../../platform/result.ts";
import type { ServeJob } from "../../serve/adapter.ts";
import { resolverFor } from "../../serve/validate.ts";
import type { MaterializeFailure, OutputRecord, Store } from "../../store/store.ts";
import type { CompileReply } from "../context.ts";
import type { CacheKey } from "../key.ts";
import { rustEntryAccepts } from "./entry.ts";
import type { RustJob } from "./handle.ts";
import { runRustMiss } from "./miss.ts";

let scratchCounter = 0;

async function deliverDepInfo(job: RustJob, store: Store, stored: OutputRecord, target: string): Promise<Result<void, MaterializeFailure>> {
  const { ctx, req } = job;
  scratchCounter++;
  const scratch = path.join(ctx.tmpDir, `rust-dep-${process.pid}-${scratchCounter}.d`);
  try {
    const r = await store.materialize(stored, scratch, "copy");
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

async function deliverRustOutput(job: RustJob, store: Store, stored: OutputRecord, dest: string): Promise<Result<void, MaterializeFailure>> {
  const { ctx } = job;
  if (!fs.existsSync(path.dirname(dest))) return err("io");
  const r = stored.role === "dep-info" ? await deliverDepInfo(job, store, stored, dest) : await store.materialize(stored, dest, ctx.deliveryMode);
  if (!r.ok) return r;
  if (isExecutable(stored.role)) {
    try {
      // A hardlink shares the read-only blob's inode: keep it read-only.
      fs.chmodSync(dest, ctx.deliveryMode === "hardlink" ? 0o555 : 0o755);
    } catch {
      return err("io");
    }
  }
  if (isCrateFile(stored.role)) job.known.record(dest, stored.hash);
  return ok(undefined);
}

/** The Rust adapter for the serve loop: outputs by role to this invocation's names. */
export function rustServeJob(job: RustJob, key: CacheKey, startedMs: number): ServeJob<CompileReply> {
  const { ctx, req } = job;
  const roles = job.outputs.map((o) => o.role);
  return {
    key,
    startedMs,
    // Sources inside the cwd are recorded relative to it (entry.ts storedPath).
    resolve: resolverFor(req.cwd),
    accepts: (entry) => rustEntryAccepts(entry, req.cwd, req.env, roles),
    destination: (output) => job.outputs.find((o) => o.role === output.role)?.path ?? null,
    deliverOutput: (store, output, dest) => deliverRustOutput(job, store, output, dest),
    replay: (entry) => {
      const stderr = fillStderrTemplate(Buffer.from(entry.stderr, "base64"), job.outputs);
      if (stderr === null) return err("corrupt");
      return ok({
        kind: "result",
        exitCode: entry.exitCode,
        stdout: Buffer.from(entry.stdout, "base64"),
        stderr,
        outcome: "hit",
      });
    },
    recordHit: (_entry, _savedMs, outcome) => ctx.stats.record(outcome, "rust"),
    miss: (missReason) => runRustMiss(job, key, missReason),
  };
}
