// The breaker's decisions, against a scripted backend and a clock the test moves.
import { expect, test } from "bun:test";
import type { RemoteBackend } from "./backend.ts";
import { parseRemoteSpec, type RemoteSpec } from "./spec.ts";
import { RemoteTier } from "./tier.ts";

type Behaviour = "ok" | "fail" | "hang";

function scripted(behaviour: () => Behaviour): RemoteBackend & { closed: number } {
  const answer = <T>(value: T, signal: AbortSignal): Promise<T> => {
    const b = behaviour();
    if (b === "ok") return Promise.resolve(value);
    if (b === "fail") return Promise.reject(new Error("ECONNREFUSED"));
    // Never answers by itself: only the tier's abort ends it.
    return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
  };
  return {
    closed: 0,
    getManifest: (_k, s) => answer(null, s),
    putManifest: (_k, _b, s) => answer(undefined, s),
    getBlob: (_h, s) => answer(null, s),
    hasBlob: (_h, s) => answer(false, s),
    putBlob: (_h, _b, s) => answer(undefined, s),
    close() {
      this.closed++;
    },
  };
}

function spec(raw: string): RemoteSpec {
  const r = parseRemoteSpec(raw);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

test("failures in a row switch a remote off; after the back-off one probe decides", async () => {
  let mode: Behaviour = "fail";
  let now = 1_000_000;
  const messages: string[] = [];
  const tier = new RemoteTier(spec("redis://127.0.0.1:1"), scripted(() => mode), (m) => messages.push(m), () => now);
  const get = () => tier.run("get manifest", (b, s) => b.getManifest("k", s, 1024));
  expect(await get()).toBeNull();
  expect(await get()).toBeNull();
  expect(tier.status().state).toBe("ok");
  expect(await get()).toBeNull();
  expect(tier.status()).toMatchObject({ state: "backing-off", errors: 3, timeouts: 0 });
  expect(messages).toHaveLength(1);
  // Switched off: not even tried.
  mode = "ok";
  expect(await get()).toBeNull();
  expect(tier.status().errors).toBe(3);
  // Back-off over, the server still down: the probe fails and the back-off doubles.
  now += 1_000;
  mode = "fail";
  expect(await get()).toBeNull();
  expect(tier.status()).toMatchObject({ state: "backing-off", errors: 4, retryInMs: 2_000 });
  expect(messages).toHaveLength(2);
  // The server is back: the next probe closes the breaker.
  now += 2_000;
  mode = "ok";
  expect(await get()).toEqual({ value: null });
  expect(tier.status()).toMatchObject({ state: "ok", retryInMs: 0 });
  expect(await get()).toEqual({ value: null });
});

test("one timeout is enough to stop asking, and drops the connection", async () => {
  let now = 5_000;
  const backend = scripted(() => "hang");
  const tier = new RemoteTier(spec("redis://127.0.0.1:1|operation-timeout=30"), backend, () => {}, () => now);
  expect(await tier.run("get manifest", (b, s) => b.getManifest("k", s, 1024))).toBeNull();
  expect(tier.status()).toMatchObject({ state: "backing-off", timeouts: 1, errors: 0 });
  expect(tier.status().lastError).toContain("no answer within 30 ms");
  expect(backend.closed).toBe(1);
  expect(tier.available()).toBe(false);
  now += 1_000;
  expect(tier.available()).toBe(true);
});

test("while one probe is out, other operations are not sent", async () => {
  let now = 0;
  let release: () => void = () => {};
  let mode: Behaviour = "fail";
  const backend: RemoteBackend = {
    ...scripted(() => mode),
    getManifest: (_k, _s) =>
      mode === "fail"
        ? Promise.reject(new Error("down"))
        : new Promise((resolve) => {
            release = () => resolve(null);
          }),
  };
  const tier = new RemoteTier(spec("http://127.0.0.1:1/"), backend, () => {}, () => now);
  for (let i = 0; i < 3; i++) await tier.run("get", (b, s) => b.getManifest("k", s, 1024));
  expect(tier.status().state).toBe("backing-off");
  now += 1_000;
  mode = "ok";
  const probe = tier.run("get", (b, s) => b.getManifest("k", s, 1024));
  expect(tier.available()).toBe(false);
  expect(await tier.run("get", (b, s) => b.getManifest("k", s, 1024))).toBeNull();
  release();
  expect(await probe).toEqual({ value: null });
  expect(tier.available()).toBe(true);
});
