// The remote tiers of one daemon: one RemoteTier per configured URL (kept across builds, so
// counters and breakers last), the store a build with remote storage uses (TieredStore), and
// the bounded queue that writes new entries to the remotes after the build has its answer.
import { sha256Hex } from "../../platform/hash.ts";
import type { Result } from "../../platform/result.ts";
import type {
  DeliveryMode,
  EntryRecord,
  FallbackTiers,
  LocalTier,
  MaterializeFailure,
  NewOutput,
  OutputRecord,
  Store,
  StoredEntry,
  StoreFailure,
} from "../store.ts";
import type { RemoteBackend } from "./backend.ts";
import { HttpBackend } from "./http.ts";
import { decodeManifest, encodeManifest } from "./manifest.ts";
import { RedisBackend } from "./redis.ts";
import type { RemoteSpec } from "./spec.ts";
import { RemoteTier, type RemoteStatus } from "./tier.ts";

/** A manifest larger than this is not read (at most MAX_REMOTE_ENTRIES records belong in one). */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

/** Entries waiting to be written; beyond this, new ones are dropped (and counted). */
export const MAX_QUEUED_WRITES = 512;

interface WriteJob {
  readonly key: string;
  readonly entry: StoredEntry;
  readonly local: LocalTier;
  readonly tiers: readonly RemoteTier[];
  readonly secret: string;
}

function backendFor(spec: RemoteSpec): RemoteBackend {
  return spec.kind === "redis" ? new RedisBackend(spec) : new HttpBackend(spec);
}

export class Remotes {
  private readonly tiers = new Map<string, RemoteTier>();
  private readonly queue: WriteJob[] = [];
  private writing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly log: (message: string) => void,
    private readonly makeBackend: (spec: RemoteSpec) => RemoteBackend = backendFor,
  ) {}

  /** The tiers for these specs, made on first use and kept (same URL and attributes, same tier). */
  private tiersFor(specs: readonly RemoteSpec[]): RemoteTier[] {
    return specs.map((spec) => {
      const id = JSON.stringify(spec);
      let t = this.tiers.get(id);
      if (t === undefined) {
        t = new RemoteTier(spec, this.makeBackend(spec), this.log);
        this.tiers.set(id, t);
      }
      return t;
    });
  }

  /** The store a build with these remotes uses: `local` first, the remotes behind it. */
  storeFor(local: LocalTier, specs: readonly RemoteSpec[], secret: string): Store {
    return new TieredStore(local, this.tiersFor(specs), secret, this);
  }

  status(): RemoteStatus[] {
    return [...this.tiers.values()].map((t) => t.status());
  }

  queued(): number {
    return this.queue.length;
  }

  enqueue(job: WriteJob): void {
    const writable = job.tiers.filter((t) => !t.spec.readOnly);
    if (writable.length === 0 || this.closed) return;
    if (this.queue.length >= MAX_QUEUED_WRITES) {
      for (const t of writable) t.counters.dropped++;
      return;
    }
    this.queue.push({ ...job, tiers: writable });
    this.writing ??= this.drainQueue().finally(() => {
      this.writing = null;
    });
  }

  private async drainQueue(): Promise<void> {
    for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
      for (const tier of job.tiers) {
        try {
          await writeEntry(tier, job);
        } catch (e) {
          tier.counters.errors++;
          this.log(`remote ${tier.spec.display}: write failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
  }

  /** Waits for queued writes, for at most `ms`; what is left is dropped (and counted). */
  async drain(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.writing !== null && Date.now() < deadline) {
      await Promise.race([this.writing, Bun.sleep(Math.max(1, Math.min(100, deadline - Date.now())))]);
    }
    for (const job of this.queue.splice(0)) for (const t of job.tiers) t.counters.dropped++;
  }

  close(): void {
    this.closed = true;
    for (const t of this.tiers.values()) t.close();
  }
}

/** Writes one entry's blobs (those the remote lacks), then its manifest merged with what is there. */
async function writeEntry(tier: RemoteTier, job: WriteJob): Promise<void> {
  // Switched off, or the entry evicted (or damaged) locally since: not written, and said so.
  if (!tier.available()) {
    tier.counters.dropped++;
    return;
  }
  const seen = new Set<string>();
  for (const o of job.entry.outputs) {
    if (seen.has(o.hash)) continue;
    seen.add(o.hash);
    const bytes = job.local.readBlob(o.hash, o.size);
    if (bytes === null) {
      tier.counters.dropped++;
      return;
    }
    const has = await tier.run("check blob", (b, s) => b.hasBlob(o.hash, s));
    if (has === null) return;
    if (has.value) continue;
    const put = await tier.run("put blob", (b, s) => b.putBlob(o.hash, bytes, s));
    if (put === null) return;
    tier.counters.bytesOut += bytes.length;
  }
  const prev = await tier.run("get manifest", (b, s) => b.getManifest(job.key, s, MAX_MANIFEST_BYTES));
  if (prev === null) return;
  const previous = prev.value === null ? [] : decodeManifest(prev.value, job.key, job.secret).wire;
  const bytes = encodeManifest(job.key, job.entry, previous, job.secret);
  const put = await tier.run("put manifest", (b, s) => b.putManifest(job.key, bytes, s));
  if (put === null) return;
  tier.counters.bytesOut += bytes.length;
  tier.counters.writes++;
}

/** The local tier with remotes behind it: reads fall back to them, writes are copied to them. */
class TieredStore implements Store {
  readonly fallback: FallbackTiers;

  constructor(
    private readonly local: LocalTier,
    private readonly tiers: readonly RemoteTier[],
    private readonly secret: string,
    private readonly remotes: Remotes,
  ) {
    this.fallback = { find: (key, pick) => this.findRemote(key, pick) };
  }

  lookup(key: string): Promise<readonly StoredEntry[]> {
    return this.local.lookup(key);
  }

  async put(key: string, record: Omit<EntryRecord, "outputs">, outputs: readonly NewOutput[]): Promise<Result<StoredEntry, StoreFailure>> {
    const r = await this.local.put(key, record, outputs);
    if (r.ok) this.remotes.enqueue({ key, entry: r.value, local: this.local, tiers: this.tiers, secret: this.secret });
    return r;
  }

  materialize(output: OutputRecord, dest: string, mode: DeliveryMode): Promise<Result<void, MaterializeFailure>> {
    return this.local.materialize(output, dest, mode);
  }

  touch(key: string, digest: string): void {
    this.local.touch(key, digest);
  }

  remove(key: string, digest: string): Promise<void> {
    return this.local.remove(key, digest);
  }

  hold(entry: StoredEntry): () => void {
    return this.local.hold(entry);
  }

  /**
   * Asks each remote in turn for the key's manifest; the first entry `pick` accepts (validated
   * against this machine's files, as a local one) has its blobs fetched, checked against their
   * hashes and imported, so it is delivered (and found next time) from the local tier.
   */
  private async findRemote(
    key: string,
    pick: (entries: readonly StoredEntry[]) => StoredEntry | null,
  ): Promise<{ entry: StoredEntry; tier: string } | null> {
    for (const tier of this.tiers) {
      const got = await tier.run("get manifest", (b, s) => b.getManifest(key, s, MAX_MANIFEST_BYTES));
      if (got === null) continue;
      if (got.value === null) {
        tier.counters.misses++;
        continue;
      }
      tier.counters.bytesIn += got.value.length;
      const decoded = decodeManifest(got.value, key, this.secret);
      tier.counters.rejected += decoded.rejected;
      const entry = pick(decoded.entries);
      if (entry === null) {
        tier.counters.misses++;
        continue;
      }
      const blobs = await this.fetchBlobs(tier, entry);
      if (blobs === null) {
        tier.counters.misses++;
        continue;
      }
      const adopted = this.local.adopt(key, entry, blobs);
      if (!adopted.ok) continue;
      tier.counters.hits++;
      return { entry: adopted.value, tier: tier.spec.display };
    }
    return null;
  }

  private async fetchBlobs(tier: RemoteTier, entry: StoredEntry): Promise<Map<string, Uint8Array> | null> {
    const blobs = new Map<string, Uint8Array>();
    for (const o of entry.outputs) {
      if (blobs.has(o.hash)) continue;
      const have = this.local.readBlob(o.hash, o.size);
      if (have !== null) {
        blobs.set(o.hash, have);
        continue;
      }
      const got = await tier.run("get blob", (b, s) => b.getBlob(o.hash, s, o.size));
      if (got === null || got.value === null) return null;
      tier.counters.bytesIn += got.value.length;
      if (got.value.length !== o.size || sha256Hex(got.value) !== o.hash) {
        tier.counters.corrupt++;
        return null;
      }
      blobs.set(o.hash, got.value);
    }
    return blobs;
  }
}
