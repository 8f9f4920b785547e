// The one serve loop for every family: lookup → first valid entry → deliver | run and store.
// Families (cc, link, rustc) say how through a ServeJob (adapter.ts); this file says when.
import type { MissReason } from "../stats/outcomes.ts";
import type { Store, StoredEntry } from "../store/store.ts";
import type { DeliveryFailure, ServeJob, ValidationServices } from "./adapter.ts";
import { err, ok, type Result } from "../platform/result.ts";
import { findValidEntry } from "./validate.ts";

export async function serve<R>(job: ServeJob<R>, store: Store, services: ValidationServices): Promise<R> {
  const entries = await store.lookup(job.key);
  let reason: MissReason = entries.length === 0 ? "new-source" : "inputs-changed";
  const hit = findValidEntry(entries, job.resolve, (e) => job.accepts(e), services);
  if (hit !== null) {
    const delivered = await deliverHit(job, store, hit);
    if (delivered.ok) {
      store.touch(job.key, hit.digest);
      job.recordHit(hit, Math.max(0, (hit.compileMs ?? 0) - (performance.now() - job.startedMs)));
      return delivered.value;
    }
    if (delivered.error === "io") reason = "delivery-failed";
    else {
      // A damaged or vanished blob: the entry can never be delivered again.
      reason = "corrupt-entry";
      await store.remove(job.key, hit.digest);
    }
  }
  return job.miss(reason);
}

/** Every output the job takes, in the entry's order, to the place the job names for its role. */
async function deliverHit<R>(job: ServeJob<R>, store: Store, entry: StoredEntry): Promise<Result<R, DeliveryFailure>> {
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
