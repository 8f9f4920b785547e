// A Rust miss: run the real compiler (with a private dep-info when the user asked for
// none), then store the result only if it is complete and nothing it read changed while it
// ran: every source named in the dep-info, every extern crate, every output fresh.
import * as fs from "node:fs";
import * as path from "node:path";
import { depInfoTemplate, parseRustDepInfo } from "../../compilers/rustc/depinfo.ts";
import { dropArtifactLines, stderrTemplate } from "../../compilers/rustc/diagnostics.ts";
import { rustcRunEnv } from "../../compilers/rustc/plan.ts";
import { runCapture } from "../../platform/exec.ts";
import {
  changedSince,
  readIfExists,
  removeQuietly,
  type StatSnapshot,
  statSnapshot,
  writeFileAtomic,
  writtenSince,
} from "../../platform/fsx.ts";
import { describeOutcome, type MissReason, type Outcome, type UncacheableReason } from "../../stats/outcomes.ts";
import type { DepRecord, NewOutput } from "../../store/store.ts";
import type { CompileReply } from "../context.ts";
import type { CacheKey } from "../key.ts";
import { type EnvDep, type RustEntryRecord, storedPath } from "./entry.ts";
import { remappedCwd } from "../../compilers/rustc/plan.ts";
import type { RustJob } from "./handle.ts";


let scratchCounter = 0;

export async function runRustMiss(job: RustJob, key: CacheKey | null, missReason: MissReason): Promise<CompileReply> {
  scratchCounter++;
  const base = path.join(job.ctx.tmpDir, `rust-${process.pid}-${scratchCounter}`);
  const privateDepInfo = job.userDepInfo === null ? `${base}.d` : null;
  try {
    return await compileAndStore(job, key, missReason, privateDepInfo, `${base}.template.d`);
  } finally {
    if (privateDepInfo !== null) removeQuietly(privateDepInfo);
    removeQuietly(`${base}.template.d`);
  }
}

async function compileAndStore(
  job: RustJob,
  key: CacheKey | null,
  missReason: MissReason,
  privateDepInfo: string | null,
  templatePath: string,
): Promise<CompileReply> {
  const { req, ctx } = job;
  const runEnv = rustcRunEnv(req.env);
  const argv = [job.ident.path, ...req.args];
  if (privateDepInfo !== null) argv.push(`--emit=dep-info=${privateDepInfo}`);
  if (job.colorMode === "tty") argv.push("--color=always");

  unlinkDeliveredReadOnly(job);
  // Timestamps have at most millisecond-ish granularity here; back off 1 ms to be safe.
  const startNs = BigInt(Date.now() - 1) * 1_000_000n;
  const run = await runCapture(argv, { cwd: req.cwd, env: runEnv });
  const stderr = privateDepInfo === null ? run.stderr : dropArtifactLines(run.stderr, privateDepInfo);

  const result = (outcome: Outcome): CompileReply => {
    ctx.stats.record(outcome, "rust");
    return { kind: "result", exitCode: run.exitCode, stdout: run.stdout, stderr, outcome: describeOutcome(outcome) };
  };
  const notStored = (reason: UncacheableReason): CompileReply => result({ kind: "uncacheable", reason });

  if (run.exitCode !== 0) return notStored("compile-failed");
  if (key === null || ctx.store === null) return notStored("cache-unavailable");

  const depPath = privateDepInfo ?? job.userDepInfo?.path ?? null;
  const depText = depPath === null ? null : readIfExists(depPath);
  if (depText === null) return notStored("no-output");
  const depInfo = parseRustDepInfo(depText.toString("utf8"));
  if (depInfo === null || depInfo.deps.length === 0) return notStored("too-hard");

  const deps: DepRecord[] = [];
  for (const d of depInfo.deps) {
    const abs = path.resolve(req.cwd, d);
    const f = ctx.files.facts(abs);
    if (f === null || changedSince(f.snapshot, startNs)) return notStored("racy-input");
    deps.push({ path: storedPath(abs, req.cwd, ctx.relocation.baseDirs), hash: f.hash });
  }
  // An extern crate rewritten while we compiled: what rustc read is not what we keyed.
  for (let i = 0; i < job.externPaths.length; i++) {
    const p = job.externPaths[i];
    if (p !== null && p !== undefined && job.known.hash(p, ctx.files) !== job.externHashes[i]) return notStored("racy-input");
  }
  const clippyConfig = job.clippy ? clippyConfigFiles(job) : { probes: [], found: null };
  if (clippyConfig.found !== null && !depInfo.deps.some((d) => path.resolve(req.cwd, d) === clippyConfig.found)) {
    const f = ctx.files.facts(clippyConfig.found);
    if (f === null || changedSince(f.snapshot, startNs)) return notStored("racy-input");
    deps.push({ path: storedPath(clippyConfig.found, req.cwd), hash: f.hash });
  }
  const envDeps: EnvDep[] = depInfo.envNames.map((n) => [n, runEnv[n] ?? null]);

  const outputs: NewOutput[] = [];
  const before = new Map<string, StatSnapshot | null>();
  for (const o of job.outputs) {
    if (!writtenSince(o.path, startNs)) return notStored("no-output");
    if (o.role === "dep-info") {
      const template = depInfoTemplate(depText.toString("utf8"), job.outputs, req.cwd);
      if (template === null) return notStored("too-hard");
      writeFileAtomic(templatePath, template);
      outputs.push({ role: o.role, path: templatePath });
    } else {
      before.set(o.path, statSnapshot(o.path));
      outputs.push({ role: o.role, path: o.path });
    }
  }
  const storedStderr = stderrTemplate(stderr, job.outputs);
  if (storedStderr === null) return notStored("too-hard");

  const record: RustEntryRecord = {
    deps,
    absent: clippyConfig.probes,
    exitCode: 0,
    stdout: run.stdout.toString("base64"),
    stderr: storedStderr.toString("base64"),
    language: "rust",
    rustEnvDeps: envDeps,
    // The key leaves the cwd out when a remap covers it: a file read by absolute path outside
    // every base dir may then be another tree's, and one the sources name by its absolute
    // path in this tree is read here from every checkout; the entry stays with this cwd.
    ...(remappedCwd(job.inv, req.cwd) !== null && (deps.some((d) => d.path.startsWith("/")) || namesTreeLiterally(depInfo.deps, [req.cwd, ...ctx.relocation.baseDirs]))
      ? { rustBoundCwd: req.cwd }
      : {}),
  };
  const put = await ctx.store.put(key, record, outputs);
  if (!put.ok) {
    ctx.stats.error("store-write-failed", put.error.detail);
  } else {
    for (const o of put.value.outputs) {
      const snap = before.get(o.path);
      if (snap !== undefined && snap !== null && (o.role === "metadata" || o.role.startsWith("link:"))) {
        job.known.record(o.path, o.hash, snap);
      }
    }
  }
  return result({ kind: "miss", reason: missReason });
}

/**
 * In hardlink delivery an earlier hit left read-only links to store blobs where rustc will
 * write; rustc refuses to overwrite a read-only output, so such links are removed first.
 */
function unlinkDeliveredReadOnly(job: RustJob): void {
  for (const o of job.outputs) {
    const st = fs.statSync(o.path, { throwIfNoEntry: false });
    if (st?.isFile() && st.nlink > 1 && (st.mode & 0o200) === 0) removeQuietly(o.path);
  }
}

const CLIPPY_CONFIG_NAMES = ["clippy.toml", ".clippy.toml"];

/**
 * clippy-driver reads clippy.toml from CLIPPY_CONF_DIR or the manifest dir and its parents.
 * One it found is in the dep-info; the ones that did not exist must still not exist.
 */
function clippyConfigFiles(job: RustJob): { probes: (readonly [string, readonly string[]])[]; found: string | null } {
  const start = job.req.env.CLIPPY_CONF_DIR ?? job.req.env.CARGO_MANIFEST_DIR ?? job.req.cwd;
  const probes: (readonly [string, readonly string[]])[] = [];
  let dir = path.resolve(job.req.cwd, start);
  for (;;) {
    const missing = CLIPPY_CONFIG_NAMES.filter((n) => !fs.existsSync(path.join(dir, n)));
    if (missing.length > 0) probes.push([storedPath(dir, job.req.cwd), missing]);
    const present = CLIPPY_CONFIG_NAMES.find((n) => !missing.includes(n));
    if (present !== undefined) return { probes, found: path.join(dir, present) };
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return { probes, found: null };
}

/**
 * Whether the crate may read a file of this tree by a literal absolute path
 * (`include_str!("/tree/x")`, `#[path = "/tree/m.rs"]`), which every checkout then reads
 * there. `tree`: the cwd and the base dirs, below which inputs are recorded relative. Only
 * when rustc spelled some input absolute in them (below an absolute crate root, or a path
 * built from `env!("OUT_DIR")`, whose value the entry checks anyway): then the inputs are
 * searched for those paths. A path assembled from pieces (`concat!`) is not seen.
 */
function namesTreeLiterally(deps: readonly string[], tree: readonly string[]): boolean {
  const dirs = tree.filter((d) => d !== "/");
  const cwd = tree[0] as string;
  if (!deps.some((d) => path.isAbsolute(d) && dirs.some((t) => d.startsWith(`${t}/`)))) return false;
  return deps.some((d) => {
    const text = readIfExists(path.resolve(cwd, d));
    return text === null || dirs.some((t) => text.includes(t));
  });
}
