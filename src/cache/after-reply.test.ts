import { expect, test } from "bun:test";
import { AfterReply } from "./after-reply.ts";

/** Resolves after the current immediates have run. */
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test("deferred work starts only after the current task and its microtasks", async () => {
  const after = new AfterReply(() => {});
  const order: string[] = [];
  after.defer(["k"], () => {
    order.push("work");
    return Promise.resolve();
  });
  order.push("sync");
  await Promise.resolve();
  order.push("microtask");
  expect(after.pending).toBe(1);
  await after.drain();
  expect(order).toEqual(["sync", "microtask", "work"]);
  expect(after.pending).toBe(0);
  expect(after.settled("k")).toBeUndefined();
});

test("a lookup of a key waits for every write of it in flight; other keys do not wait", async () => {
  const after = new AfterReply(() => {});
  let releaseFirst: () => void = () => {};
  let releaseSecond: () => void = () => {};
  const done: string[] = [];
  after.defer(["k", "text"], () => new Promise<void>((r) => (releaseFirst = r)).then(() => void done.push("first")));
  after.defer(["k"], () => new Promise<void>((r) => (releaseSecond = r)).then(() => void done.push("second")));
  expect(after.settled("other")).toBeUndefined();
  const waitK = after.settled("k");
  const waitText = after.settled("text");
  expect(waitK).toBeDefined();
  let kSettled = false;
  void waitK?.then(() => (kSettled = true));
  await tick();
  // The second write ends first: the key is still being written by the first.
  releaseSecond();
  await tick();
  expect(done).toEqual(["second"]);
  expect(kSettled).toBe(false);
  expect(after.settled("k")).toBe(waitK);
  releaseFirst();
  await waitK;
  await waitText;
  expect(done).toEqual(["second", "first"]);
  await tick();
  expect(after.settled("k")).toBeUndefined();
  expect(after.settled("text")).toBeUndefined();
  expect(after.pending).toBe(0);
});

test("a failure goes to the error callback and still settles the key", async () => {
  const errors: unknown[] = [];
  const after = new AfterReply((e) => errors.push(e));
  after.defer(["k"], () => Promise.reject(new Error("disk gone")));
  await after.settled("k");
  await after.drain();
  expect(errors.map((e) => (e as Error).message)).toEqual(["disk gone"]);
  expect(after.pending).toBe(0);
});

test("drain waits for what was deferred before it was asked", async () => {
  const after = new AfterReply(() => {});
  let release: () => void = () => {};
  let finished = false;
  after.defer(["a"], () => new Promise<void>((r) => (release = r)).then(() => void (finished = true)));
  const drained = after.drain();
  await tick();
  expect(finished).toBe(false);
  release();
  await drained;
  expect(finished).toBe(true);
});
