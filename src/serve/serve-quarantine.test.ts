// The serve loop passes over quarantined entries (a verification proved them wrong), from
// the local store and from remote tiers alike, and says so when one was what would have hit.
import { expect, test } from "bun:test";
import type { ContentHash } from "../platform/hash.ts";
import { ok, type Result } from "../platform/result.ts";
import type { MissReason } from "../stats/outcomes.ts";
import type { FallbackTiers, MaterializeFailure, Store, StoredEntry } from "../store/store.ts";
import type { ServeJob, ValidationServices } from "./adapter.ts";
import { type Quarantine, serve } from "./serve.ts";
import { resolverFor } from "./validate.ts";

const h = (s: string): ContentHash => s.padEnd(64, "0") as ContentHash;

function entry(digest: string, depHash: string): StoredEntry {
  return {
    digest,
    deps: [{ path: "/tree/a.h", hash: h(depHash) }],
    absent: [],
    outputs: [{ role: "object", path: "/recorded/a.o", hash: h("o"), size: 1 }],
    exitCode: 0,
    stdout: "",
    stderr: "",
    language: "c",
  };
}

function store(entries: StoredEntry[], fallback?: FallbackTiers): Store {
  return {
    fallback,
    lookup: async () => entries,
    put: async () => {
      throw new Error("not used");
    },
    materialize: async (): Promise<Result<void, MaterializeFailure>> => ok(undefined),
    touch: () => {},
    remove: async () => {},
    hold: () => () => {},
  };
}

const barring = (...digests: string[]): Quarantine => ({ has: (key, digest) => key === "k" && digests.includes(digest) });

function services(quarantine?: Quarantine): ValidationServices & { quarantine?: Quarantine } {
  return {
    files: { hash: (p) => (p === "/tree/a.h" ? h("now") : null) },
    absence: { pass: () => () => true },
    ...(quarantine === undefined ? {} : { quarantine }),
  };
}

function job(): { j: ServeJob<string>; misses: MissReason[] } {
  const misses: MissReason[] = [];
  const j: ServeJob<string> = {
    key: "k",
    startedMs: performance.now(),
    resolve: resolverFor("/tree"),
    accepts: () => true,
    destination: () => "/job/a.o",
    deliverOutput: (s, o, dest) => s.materialize(o, dest, "copy"),
    replay: (e) => ok(`hit ${e.digest}`),
    recordHit: () => {},
    miss: async (reason) => {
      misses.push(reason);
      return `miss ${reason}`;
    },
  };
  return { j, misses };
}

test("a quarantined entry that would have hit is passed over: a quarantined miss", async () => {
  const { j } = job();
  expect(await serve(j, store([entry("bad", "now")]), services(barring("bad")))).toBe("miss quarantined");
  expect(await serve(j, store([entry("bad", "now")]), services())).toBe("hit bad");
});

test("another valid entry under the key is still served; a quarantined one that would not match is no cause", async () => {
  const { j } = job();
  expect(await serve(j, store([entry("bad", "now"), entry("new", "now")]), services(barring("bad")))).toBe("hit new");
  expect(await serve(j, store([entry("bad", "old")]), services(barring("bad")))).toBe("miss inputs-changed");
});

test("a quarantined entry is not taken from a remote tier either", async () => {
  const { j } = job();
  const offered: string[][] = [];
  const remote: FallbackTiers = {
    find: async (_key, pick) => {
      const list = [entry("bad", "now")];
      offered.push(list.map((e) => e.digest));
      const e = pick(list);
      return e === null ? null : { entry: e, tier: "remote" };
    },
  };
  expect(await serve(j, store([], remote), services(barring("bad")))).toBe("miss new-source");
  expect(offered).toEqual([["bad"]]);
  expect(await serve(j, store([], remote), services())).toBe("hit bad");
});
