// Verified hits (verify_rate): a share of C/C++ hits is compiled again in the background —
// after the hit's reply has gone out, at the lowest CPU priority, one at a time, from a
// bounded queue (a hit that finds it full is dropped and counted, never waited for) — into a
// private scratch dir under <root>/tmp, and compared byte for byte with the entry it was
// served from. A mismatch quarantines the entries under the key (store/local: the serve loop
// passes over them, so the next compile misses and stores what the compiler gives now), is
// counted as verify-mismatch and written to the journal with what differed. A compile that
// does not reproduce itself (a second fresh compile differs from the first, or the hit
// carried a non-determinism hint) is counted apart, as verify-nondeterministic.
import * as fs from "node:fs";
import * as path from "node:path";
import type { OutcomeDetail } from "../cache/context.ts";
import { type CcVerifyTarget, renderedDepfile, type ScratchInput, scratchPlan } from "../cache/cc-verify.ts";
import type { CompilerIdentities } from "../cache/compiler-identity.ts";
import { runCapture } from "../platform/exec.ts";
import { sha256Hex } from "../platform/hash.ts";
import { errorMessage } from "../platform/result.ts";
import type { ValidationServices } from "../serve/adapter.ts";
import { findValidEntry } from "../serve/validate.ts";
import type { Counters } from "../stats/counters.ts";
import type { Language, VerifyResult } from "../stats/outcomes.ts";
import type { LocalStore } from "../store/local/local-store.ts";
import { allowlistedEnv, type Journal, type JournalLine } from "./journal.ts";
import type { Logger } from "./logger.ts";
import { type ComparedOutput, compareOutputs, describeDifference, type OutputDifference } from "./verify-compare.ts";

/** Hits waiting for their verification; a hit that finds this many is dropped (counted). */
export const MAX_QUEUED_VERIFICATIONS = 32;

/** What a background verification reads and writes in the daemon. */
export interface VerifierDeps {
  readonly counters: Counters;
  /** The local tier as it is now (it is recreated when the cache root is deleted). */
  readonly store: () => LocalStore | null;
  readonly services: ValidationServices & { readonly compilers: CompilerIdentities };
  readonly tmpDir: string;
  readonly journal: Journal;
  readonly log: Logger;
}

let lowPriority: readonly string[] | null = null;

/** `nice -n 19`: a verification takes the CPU only when nothing else wants it. */
export function lowPriorityPrefix(): readonly string[] {
  lowPriority ??= ((): readonly string[] => {
    const nice = Bun.which("nice") ?? (fs.existsSync("/usr/bin/nice") ? "/usr/bin/nice" : null);
    return nice === null ? [] : [nice, "-n", "19"];
  })();
  return lowPriority;
}

let scratchCounter = 0;

/** A new, empty, private directory under `tmpDir` (removed by the caller; tmp/ is emptied at daemon start). */
export function newScratchDir(tmpDir: string): string {
  const dir = path.join(tmpDir, `verify-${process.pid}-${++scratchCounter}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export type FreshRun =
  | {
      readonly kind: "ran";
      /** Each role the job writes, with the bytes the run wrote for it (null: none). */
      readonly outputs: ReadonlyMap<string, Buffer | null>;
      /** A depfile of the run naming what it read, when there is one. */
      readonly inputsDepfile: string | null;
    }
  | { readonly kind: "failed" | "not-verifiable" | "unsupported"; readonly why: string };

function readOrNull(p: string): Buffer | null {
  try {
    return fs.readFileSync(p);
  } catch {
    return null;
  }
}

/** Compiles `input` again with its outputs in `dir` (empty), and reads them back. */
export async function compileFresh(input: ScratchInput, dir: string, priority: readonly string[]): Promise<FreshRun> {
  const plan = scratchPlan(input, dir);
  if (plan.kind !== "run") return plan;
  for (const p of plan.outputs.values()) fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o700 });
  const run = await runCapture([...priority, ...plan.argv], { cwd: input.cwd, env: { ...input.env } });
  if (run.exitCode !== 0) {
    const first = run.stderr.toString("utf8").split("\n").find((l) => l.trim() !== "") ?? "";
    return { kind: "failed", why: `the compile exits ${run.exitCode} now${first === "" ? "" : `: ${first}`}` };
  }
  const outputs = new Map<string, Buffer | null>();
  for (const [role, p] of plan.outputs) outputs.set(role, readOrNull(p));
  const depfile = plan.outputs.get("depfile") ?? plan.privateDepfile;
  return { kind: "ran", outputs, inputsDepfile: readOrNull(depfile)?.toString("utf8") ?? null };
}

/** Whether two runs wrote the same bytes for every role. */
export function sameRuns(a: ReadonlyMap<string, Buffer | null>, b: ReadonlyMap<string, Buffer | null>): boolean {
  if (a.size !== b.size) return false;
  for (const [role, bytes] of a) {
    const other = b.get(role);
    if (other === undefined || (bytes === null) !== (other === null)) return false;
    if (bytes !== null && other !== null && !bytes.equals(other)) return false;
  }
  return true;
}

/** Runs `input` a second time into a sibling scratch dir: does it write what `first` holds? */
export async function reproduces(input: ScratchInput, first: ReadonlyMap<string, Buffer | null>, tmpDir: string, priority: readonly string[]): Promise<boolean> {
  const dir = newScratchDir(tmpDir);
  try {
    const again = await compileFresh(input, dir, priority);
    return again.kind === "ran" && sameRuns(first, again.outputs);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A journal line for a verification that found different bytes (outcome verify-mismatch or verify-nondeterministic). */
interface VerifyJournalLine extends JournalLine {
  readonly verify: {
    /** The session of the hit that was checked (the line itself belongs to no session). */
    readonly hit_session: string | null;
    readonly key: string;
    readonly digest: string;
    readonly differences: readonly {
      readonly role: string;
      readonly path: string;
      readonly offset: number | null;
      readonly delivered_size: number | null;
      readonly fresh_size: number | null;
    }[];
  };
}

interface Pending {
  readonly target: CcVerifyTarget;
  readonly hints: readonly string[];
  readonly language: Language;
}

export class Verifier {
  private readonly queue: Pending[] = [];
  private running = false;

  constructor(private readonly deps: VerifierDeps) {}

  /**
   * A hit was delivered: with probability `rate`, queue its verification. Runs only once
   * the current request's reply has been written (setImmediate, after its microtasks).
   */
  consider(detail: OutcomeDetail | undefined, language: Language, rate: number): void {
    if (rate <= 0 || Math.random() >= rate) return;
    const target = detail?.verify;
    if (target === undefined) {
      // C/C++ found by its preprocessed text has no job to re-run; Rust and links are not verified yet.
      this.count(language === "c" || language === "c++" ? "not-verifiable" : "verify-unsupported");
      return;
    }
    if (this.queue.length >= MAX_QUEUED_VERIFICATIONS) {
      this.count("verify-dropped");
      return;
    }
    this.queue.push({ target, hints: detail?.hints ?? [], language });
    if (!this.running) setImmediate(() => void this.pump());
  }

  /** Verifications waiting, and whether one is running (for status). */
  state(): { queued: number; running: boolean } {
    return { queued: this.queue.length, running: this.running };
  }

  private count(result: VerifyResult): void {
    this.deps.counters.add(`verify.${result}`, 1);
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    const next = this.queue.shift();
    if (next === undefined) return;
    this.running = true;
    try {
      this.count(await this.verify(next));
    } catch (e) {
      this.deps.log.error(`verify: ${next.target.job.objectPath}: ${errorMessage(e)}`);
      this.count("verify-failed");
    } finally {
      this.running = false;
      if (this.queue.length > 0) setImmediate(() => void this.pump());
    }
  }

  /** Whether the compiler, the source and every input the entry records are as they were at the hit. */
  private inputsAsAtHit(t: CcVerifyTarget): boolean {
    const s = this.deps.services;
    if (s.compilers.identify(t.ident.path)?.hash !== t.ident.hash) return false;
    if (s.files.hash(t.job.sourceAbs) !== t.sourceHash) return false;
    return findValidEntry([t.entry], t.resolve, () => true, s) !== null;
  }

  private async verify(p: Pending): Promise<VerifyResult> {
    const t = p.target;
    const { log, tmpDir } = this.deps;
    const store = this.deps.store();
    if (store === null) return "verify-failed";
    const input: ScratchInput = { ...t, compilerPath: t.ident.path, cwd: t.req.cwd, env: t.req.env };
    const output = t.job.objectPath;
    // Inputs edited since the hit would make a correct entry look wrong: checked before and after.
    if (!this.inputsAsAtHit(t)) {
      log.debug(`verify: ${output}: inputs changed since the hit; not verified`);
      return "not-verifiable";
    }
    const dir = newScratchDir(tmpDir);
    try {
      const startedMs = performance.now();
      const fresh = await compileFresh(input, dir, lowPriorityPrefix());
      if (fresh.kind !== "ran") {
        log.debug(`verify: ${output}: ${fresh.why}`);
        return fresh.kind === "failed" ? "verify-failed" : fresh.kind === "unsupported" ? "verify-unsupported" : "not-verifiable";
      }
      if (!this.inputsAsAtHit(t)) {
        log.debug(`verify: ${output}: inputs changed while it ran; not verified`);
        return "not-verifiable";
      }
      const differences = this.differences(t, store, fresh.outputs);
      if (differences.length === 0) return "verified";
      const reproducible = p.hints.length === 0 && (await reproduces(input, fresh.outputs, tmpDir, lowPriorityPrefix()));
      const latencyMs = performance.now() - startedMs;
      if (!reproducible) {
        this.record(p, "verify-nondeterministic", differences, latencyMs);
        log.info(`verify: ${output}: the compiler does not reproduce its own output (${describeDifference(differences[0] as OutputDifference)}); not a mismatch`);
        return "verify-nondeterministic";
      }
      const why = differences.map((d) => describeDifference(d)).join("; ");
      const digests = new Set([t.entry.digest, ...(await store.lookup(t.key)).map((e) => e.digest)]);
      store.quarantine.add(t.key, [...digests], why);
      this.record(p, "verify-mismatch", differences, latencyMs);
      log.error(`verify: MISMATCH ${output}: ${why}; ${digests.size} entr${digests.size === 1 ? "y" : "ies"} under key ${t.key} quarantined`);
      return "verify-mismatch";
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** The entry's outputs (as delivered: blobs, and the depfile rendered from its template) against the fresh ones. */
  private differences(t: CcVerifyTarget, store: LocalStore, fresh: ReadonlyMap<string, Buffer | null>): OutputDifference[] {
    const buildPath = (role: string): string =>
      role === "object" ? t.job.objectPath : role === "depfile" ? (t.job.userDepfile ?? role) : (t.job.sideOutputs.find((s) => s.kind === role)?.path ?? role);
    const compared: ComparedOutput[] = [];
    const unreadable: OutputDifference[] = [];
    for (const o of t.entry.outputs) {
      const freshBytes = fresh.get(o.role) ?? null;
      const blob = store.readBlob(o.hash, o.size);
      if (blob === null) {
        // Evicted since the hit: the recorded hash still says whether the bytes are the same.
        if (freshBytes === null || sha256Hex(freshBytes) !== o.hash) {
          unreadable.push({ role: o.role, path: buildPath(o.role), offset: null, expectedSize: o.size, freshSize: freshBytes?.length ?? null });
        }
        continue;
      }
      compared.push({ role: o.role, path: buildPath(o.role), expected: blob, fresh: freshBytes });
    }
    const rendered = renderedDepfile(t);
    if (rendered !== null) compared.push({ role: "depfile", path: buildPath("depfile"), expected: Buffer.from(rendered), fresh: fresh.get("depfile") ?? null });
    return [...compareOutputs(compared), ...unreadable];
  }

  private record(p: Pending, outcome: "verify-mismatch" | "verify-nondeterministic", differences: readonly OutputDifference[], latencyMs: number): void {
    const t = p.target;
    const line: VerifyJournalLine = {
      ts: new Date().toISOString(),
      session: null,
      outcome,
      reason: describeDifference(differences[0] as OutputDifference),
      language: p.language,
      compiler: t.req.compiler,
      args: t.req.args,
      cwd: t.req.cwd,
      output: t.job.objectPath,
      exit_code: null,
      latency_ms: Math.round(latencyMs * 1000) / 1000,
      saved_ms: 0,
      hints: p.hints,
      env: allowlistedEnv(t.req.env),
      verify: {
        hit_session: t.req.sessionId ?? null,
        key: t.key,
        digest: t.entry.digest,
        differences: differences.map((d) => ({ role: d.role, path: d.path, offset: d.offset, delivered_size: d.expectedSize, fresh_size: d.freshSize })),
      },
    };
    this.deps.journal.append(line, null);
  }
}
