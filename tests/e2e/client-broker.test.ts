// The broker-mediated connect lane (ZCCACHE_BROKER_CONNECT=1): the client asks the per-user
// running-process broker (here a fake one speaking its v1 Hello, tests/fixtures/broker.ts)
// which daemon serves zccache, and compiles there. The broker names the daemon of another
// cache root, so where a compile was counted says which way it went. Every failure of the
// lane — no broker, a refusal, a broker that never answers, an endpoint nobody listens on or
// that is not ours, a reply that is not one — falls back to the direct connect: the compile
// lands in the client's own daemon, its object equal to bare gcc's, with nothing printed.
// Through the native launcher (ZCCACHE_TEST_BIN) every compile here also checks that the
// launcher hands the lane to zccache-core instead of answering from the daemon itself.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { endpointFor } from "../../src/protocol/endpoint.ts";
import { bareObject, diff, expectOk, expectSameBytes, outcomeOf, readOrNull, rm } from "../assertions.ts";
import { CacheEnv, REPO_ROOT, requireTool, tempDir } from "../helpers.ts";
import { brokerSocketPath, FakeBroker, type HelloSeen } from "../fixtures/broker.ts";

const PRODUCT_VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;

/** Every variable of the lane unset, whatever the caller's environment holds. */
const LANE_OFF: Record<string, string | undefined> = {
  ZCCACHE_BROKER_CONNECT: undefined,
  RUNNING_PROCESS_DISABLE: undefined,
  RUNNING_PROCESS_FAKE_BACKEND: undefined,
  RUNNING_PROCESS_BROKER_CLIENT_TIMEOUT_MS: undefined,
};
/** The lane on, with a broker deadline no loaded machine reaches when the broker does answer. */
const LANE = { ...LANE_OFF, ZCCACHE_BROKER_CONNECT: "1", RUNNING_PROCESS_BROKER_CLIENT_TIMEOUT_MS: "20000" };

const HELLO: HelloSeen = {
  envelopeVersion: 1,
  frameKind: 0,
  payloadProtocol: 0,
  minProtocol: 1,
  maxProtocol: 1,
  serviceName: "zccache",
  wantedVersion: PRODUCT_VERSION,
  peerPid: expect.any(Number) as unknown as number,
};

const haveGcc = requireTool("gcc", "the broker-lane suite");

/** The daemon a broker names: another cache root, started once for the file. */
let named: CacheEnv;
beforeAll(() => {
  if (!haveGcc) return;
  named = new CacheEnv(LANE_OFF);
  expectOk(named.zc(["start"]), "zccache start (named)");
});
afterAll(() => CacheEnv.stopAll());

function socketOf(c: CacheEnv): string {
  return endpointFor(c.env, c.work).socketPath;
}

/** A client env with its own daemon running and its own $XDG_RUNTIME_DIR, where the broker lives. */
function client(): { c: CacheEnv; xdg: string; brokerPath: string } {
  const xdg = tempDir("zc-xdg-");
  const c = new CacheEnv({ ...LANE_OFF, XDG_RUNTIME_DIR: xdg });
  expectOk(c.zc(["start"]), "zccache start");
  return { c, xdg, brokerPath: brokerSocketPath(xdg) };
}

interface Source {
  readonly rel: string;
  readonly obj: string;
  readonly want: Buffer;
}

let sources = 0;
/** A source no cache has seen, and the object bare gcc makes of it. */
function freshSource(c: CacheEnv): Source {
  const k = sources++;
  const rel = `lane${k}.c`;
  c.write(rel, `int broker_lane_${k}(int x) { return x * ${k + 3}; }\n`);
  return { rel, obj: `lane${k}.o`, want: bareObject(c.work, rel) };
}

/** `zccache gcc -c` under `env` (async: the fake broker answers from this process): bare gcc's object, no output. */
async function compileQuietly(c: CacheEnv, s: Source, env: Record<string, string | undefined>): Promise<void> {
  rm(path.join(c.work, s.obj));
  const r = await c.zcAsync(["gcc", "-c", s.rel, "-o", s.obj], { env });
  expect({ what: s.rel, code: r.code, out: r.out, err: r.err }).toEqual({ what: s.rel, code: 0, out: "", err: "" });
  expectSameBytes(readOrNull(path.join(c.work, s.obj)), s.want, `${s.obj}`);
}

/** What each daemon counted while `fn` ran: [the client's own, the named one's]. */
async function counted(c: CacheEnv, fn: () => Promise<void>): Promise<[string, string]> {
  const [mine, theirs] = [c.status(), named.status()];
  await fn();
  return [outcomeOf(diff(mine, c.status())), outcomeOf(diff(theirs, named.status()))];
}

/** What a daemon that counted nothing reports. */
const NOTHING = outcomeOf({ hits: 0, misses: 0, uncacheable: 0, errors: 0, entries: 0, bytes: 0, reasons: {}, languages: {} });

describe.if(haveGcc)("broker lane", () => {
  test("asks the broker, compiles at the daemon it names: a miss, then a hit there", async () => {
    const { c, brokerPath } = client();
    const broker = FakeBroker.start(brokerPath, { kind: "negotiate", endpoint: socketOf(named) });
    try {
      const s = freshSource(c);
      expect(await counted(c, () => compileQuietly(c, s, LANE))).toEqual([NOTHING, "miss:new-source"]);
      // The client's own daemon is up: a launcher that ignored the lane would have asked it.
      expect(await counted(c, () => compileQuietly(c, s, LANE))).toEqual([NOTHING, "hit"]);
      expect(broker.connections).toBe(2);
      expect(broker.hellos).toEqual([HELLO, HELLO]);
    } finally {
      broker.stop();
    }
  });

  test("off by default, and RUNNING_PROCESS_DISABLE=1 turns it off whatever else is set", async () => {
    const { c, brokerPath } = client();
    const broker = FakeBroker.start(brokerPath, { kind: "negotiate", endpoint: socketOf(named) });
    try {
      const envs = [
        LANE_OFF,
        { ...LANE, RUNNING_PROCESS_DISABLE: "1" },
        { ...LANE, RUNNING_PROCESS_DISABLE: "1", RUNNING_PROCESS_FAKE_BACKEND: socketOf(named) },
      ];
      for (const env of envs) {
        const s = freshSource(c);
        expect(await counted(c, () => compileQuietly(c, s, env))).toEqual(["miss:new-source", NOTHING]);
      }
      expect(broker.connections).toBe(0);
    } finally {
      broker.stop();
    }
  });

  test("RUNNING_PROCESS_FAKE_BACKEND names the endpoint: no discovery, no Hello", async () => {
    const { c, xdg, brokerPath } = client();
    const broker = FakeBroker.start(brokerPath, { kind: "negotiate", endpoint: path.join(xdg, "elsewhere.sock") });
    try {
      const s = freshSource(c);
      const seam = { ...LANE_OFF, RUNNING_PROCESS_FAKE_BACKEND: socketOf(named) };
      expect(await counted(c, () => compileQuietly(c, s, seam))).toEqual([NOTHING, "miss:new-source"]);
      expect(await counted(c, () => compileQuietly(c, s, { ...seam, ZCCACHE_BROKER_CONNECT: "1" }))).toEqual([NOTHING, "hit"]);
      expect(broker.connections).toBe(0);
      // A seam pointing nowhere falls back like any other failure of the lane.
      const t = freshSource(c);
      const nowhere = { ...LANE_OFF, RUNNING_PROCESS_FAKE_BACKEND: path.join(xdg, "nobody.sock") };
      expect(await counted(c, () => compileQuietly(c, t, nowhere))).toEqual(["miss:new-source", NOTHING]);
    } finally {
      broker.stop();
    }
  });

  describe("falls back to the direct connect, silently", () => {
    test("no broker", async () => {
      const { c, brokerPath } = client();
      expect(fs.existsSync(brokerPath)).toBe(false);
      const s = freshSource(c);
      expect(await counted(c, () => compileQuietly(c, s, LANE))).toEqual(["miss:new-source", NOTHING]);
    });

    test("a refused negotiation", async () => {
      const { c, brokerPath } = client();
      const broker = FakeBroker.start(brokerPath, { kind: "refuse", code: 2, reason: "no service definition for zccache" });
      try {
        const s = freshSource(c);
        expect(await counted(c, () => compileQuietly(c, s, LANE))).toEqual(["miss:new-source", NOTHING]);
        expect(broker.hellos).toEqual([HELLO]);
      } finally {
        broker.stop();
      }
    });

    test("a broker that never answers, after its bounded wait", async () => {
      const { c, brokerPath } = client();
      const broker = FakeBroker.start(brokerPath, { kind: "hang" });
      try {
        const s = freshSource(c);
        const env = { ...LANE, RUNNING_PROCESS_BROKER_CLIENT_TIMEOUT_MS: "300" };
        expect(await counted(c, () => compileQuietly(c, s, env))).toEqual(["miss:new-source", NOTHING]);
        expect(broker.hellos).toEqual([HELLO]);
      } finally {
        broker.stop();
      }
    });

    test("a negotiated endpoint nobody listens on, or one that is not our socket", async () => {
      const { c, xdg, brokerPath } = client();
      const link = path.join(xdg, "link.sock");
      // A symbolic link to a live daemon's socket: the lane does not follow it.
      fs.symlinkSync(socketOf(named), link);
      const broker = FakeBroker.start(brokerPath, { kind: "negotiate", endpoint: path.join(xdg, "gone.sock") });
      try {
        for (const endpoint of [path.join(xdg, "gone.sock"), link, "relative.sock"]) {
          broker.answer = { kind: "negotiate", endpoint };
          const s = freshSource(c);
          expect(await counted(c, () => compileQuietly(c, s, LANE))).toEqual(["miss:new-source", NOTHING]);
        }
        expect(broker.hellos.length).toBe(3);
      } finally {
        broker.stop();
      }
    });

    test("a reply that is not one", async () => {
      const { c, brokerPath } = client();
      const broker = FakeBroker.start(brokerPath, { kind: "hang" });
      const answers = [
        // Not the v1 framing at all.
        { kind: "raw", bytes: Buffer.from("HTTP/1.1 400 Bad Request\r\n\r\n") },
        // Framed, but the body is no protobuf Frame.
        { kind: "raw", bytes: Uint8Array.of(1, 3, 0, 0, 0, 0xff, 0xff, 0xff) },
        // Half a frame, then the broker hangs up.
        { kind: "raw", bytes: Uint8Array.of(1, 100, 0, 0, 0, 8, 1), close: true },
        // A well-formed negotiation of a protocol the client did not offer.
        { kind: "negotiate", endpoint: socketOf(named), protocol: 2 },
      ] as const;
      try {
        for (const answer of answers) {
          broker.answer = answer;
          const s = freshSource(c);
          expect(await counted(c, () => compileQuietly(c, s, LANE))).toEqual(["miss:new-source", NOTHING]);
        }
        expect(broker.hellos.length).toBe(answers.length);
      } finally {
        broker.stop();
      }
    });
  });
});
