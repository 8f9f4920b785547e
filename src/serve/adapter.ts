// What a compiler family gives the serve loop (serve.ts) for one job: its key, how its
// entries are checked beyond the common rules, where each output goes, how a hit is replayed
// and recorded, and how a miss runs and stores. Types only: families import this file,
// never the loop.
import type { ContentHash } from "../platform/hash.ts";
import type { Result } from "../platform/result.ts";
import type { HitOutcome, MissReason } from "../stats/outcomes.ts";
import type { MaterializeFailure, OutputRecord, Store, StoredEntry } from "../store/store.ts";

/** Why a hit could not be delivered: "io" misses as delivery-failed, the rest drop the entry. */
export type DeliveryFailure = MaterializeFailure;

/** Turns a path recorded in an entry (a dependency, a probed directory) into the path to check now. */
export type PathResolver = (recorded: string) => string;

/** What validation reads: content hashes (stat-memoised) and absence probes. */
export interface ValidationServices {
  readonly files: { hash(p: string): ContentHash | null };
  readonly absence: { pass(): (dir: string, names: readonly string[]) => boolean };
}

/** One cacheable job of one family, ready to be served. `R` is what the family answers with. */
export interface ServeJob<R> {
  readonly key: string;
  /** When the request started being worked on (for the time a hit saved). */
  readonly startedMs: number;
  /** Resolves the entry's recorded paths against the current tree (serve/validate.ts). */
  readonly resolve: PathResolver;
  /** Family checks beyond deps and probes (output roles, environment read…). Cheap: runs first. */
  accepts(entry: StoredEntry): boolean;
  /** Where an output of this role goes for this job; null: this job does not deliver it. */
  destination(output: OutputRecord, entry: StoredEntry): string | null;
  /** Writes one output to `dest` (through `store.materialize`), the way the family's tool would. */
  deliverOutput(store: Store, output: OutputRecord, dest: string): Promise<Result<void, DeliveryFailure>>;
  /**
   * Outputs the entry describes rather than stores (a depfile rendered for this job's targets
   * and tree), written before the stored ones, as the compiler writes them first.
   */
  deliverRendered?(entry: StoredEntry): Result<void, DeliveryFailure>;
  /** The answer a hit gives (checked before any output is written; an error drops the entry). */
  replay(entry: StoredEntry): Result<R, DeliveryFailure>;
  /** Counts the hit (stats, journal detail) once every output is in place; `outcome` says from which tier. */
  recordHit(entry: StoredEntry, savedMs: number, outcome: HitOutcome): void;
  /** Runs the real tool and stores what may be stored. */
  miss(reason: MissReason): Promise<R>;
}
