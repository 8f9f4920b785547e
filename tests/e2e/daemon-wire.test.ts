// The daemon's socket under hostile or broken clients: every malformed frame gets an error
// frame (or the connection is closed), and the daemon keeps serving with the same PID.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { waitUntil } from "../assertions.ts";
import { bare, CacheEnv, tempDir } from "../helpers.ts";
import { type Exchange, exchange } from "../wire.ts";

afterAll(() => CacheEnv.stopAll());

const MAGIC = 0x4643435a;
const HEADER = 12;

function header(opts: { magic?: number; version?: number; reserved?: number; length: number }): Buffer {
  const b = Buffer.alloc(HEADER);
  b.writeUInt32LE(opts.magic ?? MAGIC, 0);
  b.writeUInt16LE(opts.version ?? 2, 4);
  b.writeUInt16LE(opts.reserved ?? 0, 6);
  b.writeUInt32LE(opts.length, 8);
  return b;
}

function frameOf(payload: string | Buffer, opts: { version?: number; kind?: number } = {}): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  return Buffer.concat([header({ length: body.length, version: opts.version, reserved: opts.kind }), body]);
}


/** Decodes every whole frame in `data` (checking magic, version, kind 0 and length). */
function decodeFrames(data: Buffer, version = 2): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let off = 0;
  while (off < data.length) {
    expect(data.length - off).toBeGreaterThanOrEqual(HEADER);
    expect(data.readUInt32LE(off)).toBe(MAGIC);
    expect(data.readUInt16LE(off + 4)).toBe(version);
    expect(data.readUInt16LE(off + 6)).toBe(0);
    const len = data.readUInt32LE(off + 8);
    expect(data.length - off - HEADER).toBeGreaterThanOrEqual(len);
    out.push(JSON.parse(data.subarray(off + HEADER, off + HEADER + len).toString("utf8")));
    off += HEADER + len;
  }
  return out;
}

const c = new CacheEnv();
let daemonPid = 0;
let socketPath = "";
let compiles = 0;

function ping(): Promise<Exchange> {
  return exchange(socketPath, [frameOf(JSON.stringify({ type: "ping", clientVersion: "0.1.0" }))]);
}

/** After each abuse: the same daemon still answers a ping and serves a real compile. */
async function expectHealthy(): Promise<void> {
  const r = await ping();
  const frames = decodeFrames(r.data);
  expect(frames.length).toBe(1);
  expect(frames[0]?.type).toBe("pong");
  expect(frames[0]?.pid).toBe(daemonPid);
  expect(frames[0]?.daemonVersion).toBe("0.1.0");

  compiles++;
  const src = `w${compiles}.c`;
  c.write(src, `int wire_${compiles}(void) { return ${compiles}; }\n`);
  const res = c.zc(["gcc", "-c", src, "-o", `w${compiles}.o`]);
  expect(res.code).toBe(0);
  const bareDir = tempDir("zc-bare-");
  fs.copyFileSync(path.join(c.work, src), path.join(bareDir, src));
  expect(bare(["gcc", "-c", src, "-o", `w${compiles}.o`], bareDir).code).toBe(0);
  expect(c.read(`w${compiles}.o`).equals(fs.readFileSync(path.join(bareDir, `w${compiles}.o`)))).toBe(true);

  expect(c.daemonPids()).toEqual([daemonPid]);
  const st = c.status();
  expect(st.pid).toBe(daemonPid);
  expect(st.misses).toBe(compiles);
}

async function expectErrorReply(chunks: Buffer[], code: string, after: "end" | "keep" = "keep"): Promise<void> {
  const r = await exchange(socketPath, chunks, after);
  const frames = decodeFrames(r.data);
  expect(frames.length).toBe(1);
  const f = frames[0] as Record<string, unknown>;
  expect(f.type).toBe("error");
  expect(f.code).toBe(code);
  expect(typeof f.message).toBe("string");
  expect(f.pid).toBe(daemonPid);
  // The daemon closes the connection after an error.
  expect(r.closed).toBe(true);
}

beforeAll(() => {
  const r = c.zc(["start"]);
  if (r.code !== 0) throw new Error(`start failed: ${r.err}`);
  const st = c.status();
  daemonPid = st.pid;
  socketPath = st.socket;
  expect(c.daemonPids()).toEqual([daemonPid]);
});

describe("daemon wire protocol", () => {
  test("a well-formed ping gets a pong", async () => {
    await expectHealthy();
  });

  test("a ping written one byte at a time is reassembled", async () => {
    const f = frameOf(JSON.stringify({ type: "ping", clientVersion: "0.1.0" }));
    const bytes: Buffer[] = Array.from(f.subarray(0, 20), (b) => Buffer.from([b]));
    bytes.push(Buffer.from(f.subarray(20)));
    const r = await exchange(socketPath, bytes);
    const frames = decodeFrames(r.data);
    expect(frames.length).toBe(1);
    expect(frames[0]?.type).toBe("pong");
    await expectHealthy();
  });

  test("garbage bytes: bad-magic", async () => {
    const garbage = Buffer.from("GET / HTTP/1.1\r\nHost: zccache\r\n\r\n garbage garbage garbage", "latin1");
    await expectErrorReply([garbage], "bad-magic");
    await expectHealthy();
  });

  test("a truncated frame then close", async () => {
    const f = frameOf(JSON.stringify({ type: "ping", clientVersion: "0.1.0" }));
    // Half a header, then half-close: no reply is possible, the daemon must hang up.
    const r1 = await exchange(socketPath, [f.subarray(0, 7)], "end");
    expect(r1.closed).toBe(true);
    expect(r1.data.length).toBe(0);
    // A whole header promising more payload than is sent, then half-close.
    const r2 = await exchange(socketPath, [f.subarray(0, HEADER + 3)], "end");
    expect(r2.closed).toBe(true);
    expect(r2.data.length).toBe(0);
    // And a truncated frame dropped abruptly.
    await exchange(socketPath, [f.subarray(0, HEADER + 3)], "destroy");
    await expectHealthy();
  });

  test("an oversized length (0xFFFFFFFF): too-large", async () => {
    await expectErrorReply([header({ length: 0xffffffff })], "too-large");
    // One byte over the 64 MiB limit is refused too.
    await expectErrorReply([header({ length: 64 * 1024 * 1024 + 1 })], "too-large");
    await expectHealthy();
  });

  test("an older protocol version: run-local in the client's own version, and the daemon keeps serving", async () => {
    for (const version of [1, 0]) {
      const r = await exchange(socketPath, [frameOf(JSON.stringify({ type: "compile", clientVersion: "0.0.9" }), { version })]);
      const frames = decodeFrames(r.data, version);
      expect(frames.length).toBe(1);
      expect(frames[0]?.type).toBe("run-local");
      expect(frames[0]?.reason).toBe("client-outdated");
      expect(frames[0]?.pid).toBe(daemonPid);
      expect(r.closed).toBe(true);
    }
    await expectHealthy();
  });

  test("an unknown frame kind, or a kind that is not a request: bad-kind", async () => {
    await expectErrorReply([frameOf(JSON.stringify({ type: "status", clientVersion: "0.1.0" }), { kind: 9 })], "bad-kind");
    await expectErrorReply([frameOf("", { kind: 3 })], "bad-kind");
    await expectErrorReply([frameOf(Buffer.from([0]), { kind: 2 })], "bad-kind");
    await expectHealthy();
  });

  test("a valid frame with invalid JSON: bad-json", async () => {
    await expectErrorReply([frameOf('{"type":"ping",')], "bad-json");
    await expectErrorReply([frameOf(Buffer.from([0xff, 0xfe, 0x00, 0x7b]))], "bad-json");
    await expectHealthy();
  });

  test("valid JSON that is not a known request: bad-request", async () => {
    await expectErrorReply([frameOf(JSON.stringify({ type: "frobnicate" }))], "bad-request");
    await expectErrorReply([frameOf(JSON.stringify([1, 2, 3]))], "bad-request");
    await expectErrorReply([frameOf(JSON.stringify({ type: "ping" }))], "bad-request");
    // Every request names its client's version, not only compile and ping.
    await expectErrorReply([frameOf(JSON.stringify({ type: "status" }))], "bad-request");
    await expectErrorReply(
      [frameOf(JSON.stringify({ type: "compile", clientVersion: "0.1.0", compiler: "gcc", args: [], cwd: "relative", env: {}, clientPid: 1 }))],
      "bad-request",
    );
    await expectHealthy();
  });

  test("a client that connects, sends nothing and disconnects", async () => {
    for (let i = 0; i < 5; i++) {
      const r = await exchange(socketPath, [], "destroy");
      expect(r.data.length).toBe(0);
    }
    const r = await exchange(socketPath, [], "end");
    expect(r.closed).toBe(true);
    expect(r.data.length).toBe(0);
    await expectHealthy();
  });

  test("one request per connection: a second frame gets no second reply", async () => {
    const p = frameOf(JSON.stringify({ type: "ping", clientVersion: "0.1.0" }));
    const r = await exchange(socketPath, [Buffer.concat([p, p])], "keep");
    const frames = decodeFrames(r.data);
    expect(frames.length).toBe(1);
    expect(frames[0]?.type).toBe("pong");
    expect(r.closed).toBe(true);
    await expectHealthy();
  });

  // Last: it retires the daemon.
  test("a newer protocol version: daemon-outdated in our own version, then the daemon hands over", async () => {
    const r = await exchange(socketPath, [frameOf(JSON.stringify({ type: "compile", future: true }), { version: 3, kind: 7 })]);
    const frames = decodeFrames(r.data, 2);
    expect(frames.length).toBe(1);
    expect(frames[0]?.type).toBe("error");
    expect(frames[0]?.code).toBe("daemon-outdated");
    expect(frames[0]?.pid).toBe(daemonPid);
    expect(await waitUntil(() => c.daemonPids().length === 0, 15_000)).toBe(true);
  });
});
