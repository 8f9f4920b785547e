// The serve loop's decisions, against an in-memory store and a scripted family.
import { expect, test } from "bun:test";
import type { ContentHash } from "../platform/hash.ts";
import { err, ok, type Result } from "../platform/result.ts";
import type { MissReason } from "../stats/outcomes.ts";
import type { DeliveryMode, FallbackTiers, MaterializeFailure, OutputRecord, Store, StoredEntry } from "../store/store.ts";
import type { ServeJob, ValidationServices } from "./adapter.ts";
import { serve } from "./serve.ts";
import { resolverFor } from "./validate.ts";

const h = (s: string): ContentHash => s.padEnd(64, "0") as ContentHash;

function entry(digest: string, depPath: string, depHash: string, roles: readonly string[] = ["object"]): StoredEntry {
  return {
    digest,
    deps: [{ path: depPath, hash: h(depHash) }],
    absent: [["/inc", ["gone.h"]]],
    outputs: roles.map((role) => ({ role, path: `/recorded/${role}`, hash: h(role), size: 1 })),
    exitCode: 0,
    stdout: "",
    stderr: "",
    language: "c",
  };
}

class FakeStore implements Store {
  readonly delivered: [string, string][] = [];
  readonly touched: string[] = [];
  readonly removed: string[] = [];
  readonly heldWhileDelivering: string[] = [];
  fallback?: FallbackTiers;
  constructor(
    private readonly entries: StoredEntry[],
    private readonly failure: MaterializeFailure | null = null,
  ) {}
  async lookup(): Promise<readonly StoredEntry[]> {
    return this.entries;
  }
  async put(): Promise<never> {
    throw new Error("not used");
  }
  async materialize(output: OutputRecord, dest: string, _mode: DeliveryMode): Promise<Result<void, MaterializeFailure>> {
    this.heldWhileDelivering.push([...this.holding.keys()].join(","));
    if (this.failure !== null) return err(this.failure);
    this.delivered.push([output.role, dest]);
    return ok(undefined);
  }
  touch(_key: string, digest: string): void {
    this.touched.push(digest);
  }
  async remove(_key: string, digest: string): Promise<void> {
    this.removed.push(digest);
  }
  /** Digests held now, and every hold taken (each must be released by the end). */
  readonly holding = new Map<string, number>();
  holds = 0;
  hold(entry: StoredEntry): () => void {
    this.holds++;
    this.holding.set(entry.digest, (this.holding.get(entry.digest) ?? 0) + 1);
    return () => {
      const n = (this.holding.get(entry.digest) ?? 0) - 1;
      if (n <= 0) this.holding.delete(entry.digest);
      else this.holding.set(entry.digest, n);
    };
  }
}

const services = (hashes: Record<string, string>, present: readonly string[] = []): ValidationServices => ({
  files: { hash: (p) => (hashes[p] === undefined ? null : h(hashes[p])) },
  absence: { pass: () => (dir, names) => !names.some((n) => present.includes(`${dir}/${n}`)) },
});

function job(accepts: (e: StoredEntry) => boolean = () => true) {
  const log: { hits: string[]; misses: MissReason[] } = { hits: [], misses: [] };
  const j: ServeJob<string> = {
    key: "k",
    startedMs: performance.now(),
    resolve: resolverFor("/tree"),
    accepts,
    destination: (o) => (o.role === "object" ? "/job/x2.o" : null),
    deliverOutput: (store, o, dest) => store.materialize(o, dest, "copy"),
    replay: (e) => ok(`hit ${e.digest}`),
    recordHit: (e, _saved, outcome) => log.hits.push(outcome.tier === "remote" ? `${e.digest} (remote)` : e.digest),
    miss: async (reason) => {
      log.misses.push(reason);
      return `miss ${reason}`;
    },
  };
  return { j, log };
}

test("no entries: a new-source miss", async () => {
  const { j, log } = job();
  expect(await serve(j, new FakeStore([]), services({}))).toBe("miss new-source");
  expect(log.hits).toEqual([]);
});

test("the first valid entry is delivered to the job's paths, touched and counted", async () => {
  const store = new FakeStore([entry("stale", "/tree/a.h", "old"), entry("good", "a.h", "new", ["object", "dwo"])]);
  const { j, log } = job();
  // The recorded path "a.h" is relative: resolved against the job's tree.
  expect(await serve(j, store, services({ "/tree/a.h": "new" }))).toBe("hit good");
  expect(store.delivered).toEqual([["object", "/job/x2.o"]]);
  expect(store.touched).toEqual(["good"]);
  expect(log.hits).toEqual(["good"]);
});

test("an entry the family rejects, or whose probe now exists, is an inputs-changed miss", async () => {
  const { j, log } = job(() => false);
  expect(await serve(j, new FakeStore([entry("e", "/a.h", "x")]), services({ "/a.h": "x" }))).toBe("miss inputs-changed");
  const probed = job();
  expect(await serve(probed.j, new FakeStore([entry("e", "/a.h", "x")]), services({ "/a.h": "x" }, ["/inc/gone.h"]))).toBe(
    "miss inputs-changed",
  );
  expect([...log.hits, ...probed.log.hits]).toEqual([]);
});

test("a corrupt blob drops the entry: corrupt-entry miss", async () => {
  const store = new FakeStore([entry("e", "/a.h", "x")], "corrupt");
  const { j } = job();
  expect(await serve(j, store, services({ "/a.h": "x" }))).toBe("miss corrupt-entry");
  expect(store.removed).toEqual(["e"]);
  expect(store.touched).toEqual([]);
});

test("a failed write keeps the entry: delivery-failed miss", async () => {
  const store = new FakeStore([entry("e", "/a.h", "x")], "io");
  const { j } = job();
  expect(await serve(j, store, services({ "/a.h": "x" }))).toBe("miss delivery-failed");
  expect(store.removed).toEqual([]);
});

test("an entry is held against eviction while it is delivered, and released after", async () => {
  const store = new FakeStore([entry("good", "a.h", "new")]);
  const { j } = job();
  await serve(j, store, services({ "/tree/a.h": "new" }));
  expect(store.heldWhileDelivering).toEqual(["good"]);
  expect(store.holds).toBe(1);
  expect(store.holding.size).toBe(0);
  const failing = new FakeStore([entry("e", "/a.h", "x")], "corrupt");
  await serve(job().j, failing, services({ "/a.h": "x" }));
  expect(failing.holding.size).toBe(0);
});

test("remote tiers are asked only when no local entry is valid, with the same validation", async () => {
  const asked: string[][] = [];
  const remoteEntries = [entry("remote-stale", "a.h", "old"), entry("remote-good", "a.h", "new")];
  const withRemote = (local: StoredEntry[], failure: MaterializeFailure | null = null): FakeStore => {
    const store = new FakeStore(local, failure);
    store.fallback = {
      find: async (_key, pick) => {
        asked.push(remoteEntries.map((e) => e.digest));
        const e = pick(remoteEntries);
        return e === null ? null : { entry: e, tier: "redis://x" };
      },
    };
    return store;
  };
  // A valid local entry: the remote is not asked.
  const local = job();
  expect(await serve(local.j, withRemote([entry("local", "a.h", "new")]), services({ "/tree/a.h": "new" }))).toBe("hit local");
  expect(asked).toEqual([]);
  // Local entries stale: the remote's first valid entry, counted as a remote hit.
  const remote = job();
  const store = withRemote([entry("local", "a.h", "old")]);
  expect(await serve(remote.j, store, services({ "/tree/a.h": "new" }))).toBe("hit remote-good");
  expect(remote.log.hits).toEqual(["remote-good (remote)"]);
  expect(store.delivered).toEqual([["object", "/job/x2.o"]]);
  expect(asked).toHaveLength(1);
  // Nothing valid anywhere: the miss keeps its local reason.
  const none = job();
  expect(await serve(none.j, withRemote([entry("local", "a.h", "old")]), services({ "/tree/a.h": "other" }))).toBe("miss inputs-changed");
  // A local write failure is not a reason to fetch from a remote.
  const io = job();
  asked.length = 0;
  expect(await serve(io.j, withRemote([entry("local", "a.h", "new")], "io"), services({ "/tree/a.h": "new" }))).toBe("miss delivery-failed");
  expect(asked).toEqual([]);
});
