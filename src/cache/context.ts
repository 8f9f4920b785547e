// The services a request handler needs from the daemon, passed in rather than imported.
import type { CompilerIdentities } from "./compiler-identity.ts";
import type { FileHashes } from "./file-hashes.ts";
import type { AbsenceChecker } from "./absence.ts";
import type { Relocation } from "../compilers/cc/relocate.ts";
import type { SystemDirs } from "../compilers/cc/search-path.ts";
import type { DeliveryMode, Store, StoredEntry } from "../store/store.ts";
import type { ErrorReason, Language, Outcome } from "../stats/outcomes.ts";
import type { Quarantine } from "../serve/serve.ts";
import type { CcVerifyTarget } from "./cc-verify.ts";
import type { OutputWrites } from "./output-writes.ts";

/** What the journal, sessions and `explain` learn about one compile, beyond its outcome. */
export interface OutcomeDetail {
  /** The main output (object, archive, executable, rlib) as an absolute path. */
  readonly output?: string;
  /** For a hit: how long the compile it replaced took, minus the hit's own time. */
  readonly savedMs?: number;
  /** For a hit or a miss of C/C++: the inputs, so `explain` can say what changed. */
  readonly facts?: CompileFacts | LazyFacts;
  /** Notes about a stored or delivered result that is not reproducible bit for bit (counted as hint.<name>). */
  readonly hints?: readonly string[];
  /** For a C/C++ hit: what compiling it again needs, for a verification (verify_rate, daemon/verify.ts). */
  readonly verify?: CcVerifyTarget;
}

/**
 * Facts built only when the history needs them: a hit that repeats the compile its output's
 * history row already describes (equal `fingerprint`) only updates the row's time, so its
 * ~270 dependency records for STL code are never copied. Equal fingerprints must mean equal
 * facts.
 */
export interface LazyFacts {
  readonly fingerprint: string;
  get(): CompileFacts;
}

/** The inputs of one compile, recorded per output for `zccache explain`. */
export interface CompileFacts {
  readonly compiler: string;
  readonly compilerHash: string;
  readonly cwd: string;
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly source: { readonly path: string; readonly hash: string };
  readonly deps: readonly { readonly path: string; readonly hash: string }[];
}

export interface StatsSink {
  record(outcome: Outcome, language: Language, detail?: OutcomeDetail): void;
  /** A failure inside the cache that did not change what the build saw. */
  error(reason: ErrorReason, detail: string): void;
}

export interface PipelineContext {
  /** Null when the cache root cannot be used; every compile then runs uncached. */
  readonly store: Store | null;
  readonly files: FileHashes;
  readonly absence: AbsenceChecker;
  readonly compilers: CompilerIdentities;
  readonly systemDirs: SystemDirs;
  readonly deliveryMode: DeliveryMode;
  /** Private scratch directory for depfiles the user did not ask for. */
  readonly tmpDir: string;
  readonly stats: StatsSink;
  /** This build's base dirs and path remapping (ZCCACHE_BASE_DIR, ZCCACHE_PATH_REMAP). */
  readonly relocation: Relocation;
  /** Words run before the compiler on a C/C++ miss (ZCCACHE_PREFIX, e.g. distcc); [] = none. */
  readonly prefixCommand: readonly string[];
  /** Files this daemon's jobs write, and which entry owns each (for a link's output directory). */
  readonly writes: OutputWrites;
  /** ZCCACHE_PREPROCESSOR_FALLBACK: a direct-mode miss is looked up by its preprocessed text. */
  readonly preprocessorFallback: boolean;
  /** Entries a verification proved wrong: the serve loop passes over them (daemon/verify.ts). */
  readonly quarantine?: Quarantine;
}

export type CompileReply =
  | {
      readonly kind: "result";
      readonly exitCode: number;
      readonly stdout: Buffer;
      readonly stderr: Buffer;
      readonly outcome: string;
    }
  | { readonly kind: "run-local"; readonly reason: string; readonly compilerPath: string | null };

/** A hit's answer when the entry replays the tool's own exit code, stdout and stderr as stored. */
export function storedReply(entry: Pick<StoredEntry, "exitCode" | "stdout" | "stderr">): CompileReply {
  return {
    kind: "result",
    exitCode: entry.exitCode,
    stdout: Buffer.from(entry.stdout, "base64"),
    stderr: Buffer.from(entry.stderr, "base64"),
    outcome: "hit",
  };
}
