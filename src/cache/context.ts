// The services a request handler needs from the daemon, passed in rather than imported.
import type { CompilerIdentities } from "./compiler-identity.ts";
import type { FileHashes } from "./file-hashes.ts";
import type { AbsenceChecker } from "./absence.ts";
import type { SystemDirs } from "../compilers/cc/search-path.ts";
import type { DeliveryMode, Store } from "../store/store.ts";
import type { ErrorReason, Language, Outcome } from "../stats/outcomes.ts";

export interface StatsSink {
  record(outcome: Outcome, language: Language): void;
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
