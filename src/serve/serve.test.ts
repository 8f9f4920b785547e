// The serve loop's decisions, against an in-memory store and a scripted family.
import { expect, test } from "bun:test";
import type { ContentHash } from "../platform/hash.ts";
import { err, ok, type Result } from "../platform/result.ts";
import type { MissReason } from "../stats/outcomes.ts";
import type { DeliveryMode, MaterializeFailure, OutputRecord, Store, StoredEntry } from "../store/store.ts";
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
    recordHit: (e) => log.hits.push(e.digest),
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
