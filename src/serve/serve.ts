// The one serve loop for every family: lookup → first valid entry → deliver | run and store.
// Families (cc, link, rustc) say how through a ServeJob (adapter.ts); this file says when.
import type { MissReason } from "../stats/outcomes.ts";
import type { Store, StoredEntry } from "../store/store.ts";
import type { DeliveryFailure, ServeJob, ValidationServices } from "./adapter.ts";
import { err, ok, type Result } from "../platform/result.ts";
import { findValidEntry } from "./validate.ts";

/**
 * Entries a verification proved wrong (daemon/verify.ts): never served again, from any tier.
 * An entry stored under the same key later is not quarantined (its digest differs).
 */
export interface Quarantine {
  has(key: string, digest: string): boolean;
}

export async function serve<R>(
  job: ServeJob<R>,
  store: Store,
  services: ValidationServices & { readonly quarantine?: Quarantine },
): Promise<R> {
  const entries = await store.lookup(job.key);
  let reason: MissReason = entries.length === 0 ? "new-source" : "inputs-changed";
  const q = services.quarantine;
  const barred = (e: StoredEntry): boolean => q !== undefined && q.has(job.key, e.digest);
  const validIn = (list: readonly StoredEntry[]): StoredEntry | null => findValidEntry(list, job.resolve, (e) => job.accepts(e), services);
  const pick = (list: readonly StoredEntry[]): StoredEntry | null => validIn(list.some(barred) ? list.filter((e) => !barred(e)) : list);
  const hit = pick(entries);
  // Only when a quarantined entry is what this compile would have been served: say so.
  if (hit === null && entries.some(barred) && validIn(entries.filter(barred)) !== null) reason = "quarantined";
  if (hit !== null) {
    const delivered = await deliverHit(job, store, hit);
    if (delivered.ok) {
      store.touch(job.key, hit.digest);
      job.recordHit(hit, savedBy(job, hit), { kind: "hit" });
      return delivered.value;
    }
    if (delivered.error === "io") reason = "delivery-failed";
    else {
      // A damaged or vanished blob: the entry can never be delivered again.
      reason = "corrupt-entry";
      await store.remove(job.key, hit.digest);
    }
  }
  if (store.fallback !== undefined && reason !== "delivery-failed") {
    // Remote tiers: validated by the same rules, imported into this store, delivered from it.
    const found = await store.fallback.find(job.key, pick);
    if (found !== null) {
      const delivered = await deliverHit(job, store, found.entry);
      if (delivered.ok) {
        job.recordHit(found.entry, savedBy(job, found.entry), { kind: "hit", tier: "remote" });
        return delivered.value;
      }
      if (delivered.error !== "io") await store.remove(job.key, found.entry.digest);
    }
  }
  return job.miss(reason);
}

function savedBy<R>(job: ServeJob<R>, entry: StoredEntry): number {
  return Math.max(0, (entry.compileMs ?? 0) - (performance.now() - job.startedMs));
}

/**
 * Every output the job takes, in the entry's order, to the place the job names for its role;
 * the entry is held so that eviction cannot take its blobs in the middle.
 */
async function deliverHit<R>(job: ServeJob<R>, store: Store, entry: StoredEntry): Promise<Result<R, DeliveryFailure>> {
  const release = store.hold(entry);
  try {
    return await deliverHeld(job, store, entry);
  } finally {
    release();
  }
}

async function deliverHeld<R>(job: ServeJob<R>, store: Store, entry: StoredEntry): Promise<Result<R, DeliveryFailure>> {
  const reply = job.replay(entry);
  if (!reply.ok) return reply;
  const rendered = job.deliverRendered?.(entry) ?? ok(undefined);
  if (!rendered.ok) return err(rendered.error);
  for (const out of entry.outputs) {
    const dest = job.destination(out, entry);
    if (dest === null) continue;
    const r = await job.deliverOutput(store, out, dest);
    if (!r.ok) return err(r.error);
  }
  return ok(reply.value);
}
