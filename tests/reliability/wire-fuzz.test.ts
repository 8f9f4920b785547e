// Wire fuzzing: thousands of random, truncated, oversized, wrong-version and malformed frames,
// clients that connect and never send, clients that hold half a frame, and clients that hang
// up in the middle of a request. The same daemon must keep serving well-behaved clients
// correctly throughout, and afterwards hold no more file descriptors than before and no
// unbounded amount of memory.
import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { bare, CacheEnv, sleepMs } from "../helpers.ts";
import { type Exchange, exchange } from "../wire.ts";
import { fdCount, intFromEnv, pool, Rng, seedFromEnv, vmRssKb, waitUntil } from "./lib.ts";

afterAll(() => CacheEnv.stopAll());

const SEED = seedFromEnv("ZCCACHE_WIRE_SEED");
const FRAMES = intFromEnv("ZCCACHE_WIRE_FRAMES", 3000);

const MAGIC = 0x4643435a;
const HEADER = 12;
const MAX_FRAME = 64 * 1024 * 1024;

function header(length: number, opts: { magic?: number; version?: number; reserved?: number } = {}): Buffer {
  const b = Buffer.alloc(HEADER);
  b.writeUInt32LE(opts.magic ?? MAGIC, 0);
  b.writeUInt16LE(opts.version ?? 2, 4);
  b.writeUInt16LE(opts.reserved ?? 0, 6);
  b.writeUInt32LE(length >>> 0, 8);
  return b;
}

function frame(body: string | Buffer, opts: { magic?: number; version?: number; reserved?: number } = {}): Buffer {
  const b = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  return Buffer.concat([header(b.length, opts), b]);
}

/** Fuzz connections write their chunks 1 ms apart; "wait" keeps the connection open. */
function fuzzExchange(socketPath: string, chunks: readonly Buffer[], after: "end" | "destroy" | "wait", waitMs = 10_000): Promise<Exchange> {
  return exchange(socketPath, chunks, after === "wait" ? "keep" : after, waitMs, 1);
}

/** A connection we keep open (silent, or holding part of a frame) until the end. */
function hold(socketPath: string, bytes: Buffer): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ path: socketPath });
    sock.on("error", () => {});
    sock.on("connect", () => {
      if (bytes.length > 0) sock.write(bytes);
      resolve(sock);
    });
    setTimeout(() => reject(new Error("connect timed out")), 10_000);
  });
}

const PROGRESS_KIND = 3;

/** The first answer in `data`, past any progress frames (kind 3) sent while the daemon worked. */
function firstFrame(data: Buffer): Record<string, unknown> | null {
  let off = 0;
  while (data.length - off >= HEADER && data.readUInt32LE(off) === MAGIC) {
    const len = data.readUInt32LE(off + 8);
    if (data.length - off < HEADER + len) return null;
    if (data.readUInt16LE(off + 6) !== PROGRESS_KIND) {
      return JSON.parse(data.subarray(off + HEADER, off + HEADER + len).toString("utf8")) as Record<string, unknown>;
    }
    off += HEADER + len;
  }
  return null;
}

interface Case {
  readonly name: string;
  readonly chunks: Buffer[];
  readonly after: "end" | "destroy" | "wait";
  /** The error code the daemon must answer with, when we wait for it. */
  readonly expectCode?: string;
  /** A non-error reply type the daemon must answer with. */
  readonly expectType?: string;
}

function randomJsonValue(rng: Rng, depth = 0): unknown {
  const k = rng.int(depth > 2 ? 4 : 7);
  switch (k) {
    case 0:
      return null;
    case 1:
      return rng.int(1e6) - 5e5;
    case 2:
      return rng.chance(0.5);
    case 3:
      return rng.bytes(rng.int(12)).toString("latin1");
    case 4:
      return Array.from({ length: rng.int(4) }, () => randomJsonValue(rng, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(4); i > 0; i--) o[rng.pick(["type", "args", "env", "cwd", "compiler", "x", "id", "path"])] = randomJsonValue(rng, depth + 1);
      return o;
    }
  }
}

function makeCase(rng: Rng, work: string): Case {
  const ping = JSON.stringify({ type: "ping", clientVersion: "0.1.0" });
  const which = rng.int(17);
  const after = (): "end" | "destroy" => (rng.chance(0.5) ? "end" : "destroy");
  switch (which) {
    case 0:
      // Fewer than a header's worth of bytes is a frame still arriving (the daemon waits
      // for the rest, up to its request timeout): only wait for an answer to whole headers.
      if (rng.chance(0.5)) return { name: "random bytes", chunks: [rng.bytes(rng.range(HEADER, 2048))], after: "wait" };
      return { name: "random bytes", chunks: [rng.bytes(rng.range(1, 2048))], after: after() };
    case 1: {
      const bad = (MAGIC ^ (1 << rng.int(32))) >>> 0;
      return { name: "bad magic", chunks: [frame(ping, { magic: bad })], after: "wait", expectCode: "bad-magic" };
    }
    case 2:
      // An older protocol is told to compile by itself (a newer one would retire the daemon:
      // daemon-wire.test.ts covers that).
      return { name: "older version", chunks: [frame(ping, { version: rng.pick([0, 1]) })], after: "wait", expectType: "run-local" };
    case 3:
      return { name: "oversized length", chunks: [header(rng.pick([MAX_FRAME + 1, 0xffffffff, MAX_FRAME * 2]))], after: "wait", expectCode: "too-large" };
    case 4: {
      const f = frame(ping);
      return { name: "truncated header", chunks: [f.subarray(0, rng.range(1, HEADER - 1))], after: after() };
    }
    case 5: {
      const f = frame(JSON.stringify({ type: "status" }));
      return { name: "truncated body", chunks: [f.subarray(0, rng.range(HEADER, f.length - 1))], after: after() };
    }
    case 6:
      return { name: "body not utf-8 json", chunks: [frame(Buffer.concat([Buffer.from([0xff, 0xfe]), rng.bytes(rng.range(1, 300))]))], after: "wait", expectCode: "bad-json" };
    case 7:
      return { name: "cut json", chunks: [frame('{"type":"compile","args":["-c",')], after: "wait", expectCode: "bad-json" };
    case 8:
      return {
        name: "json that is not a request",
        chunks: [frame(JSON.stringify(rng.pick([null, 1, "ping", [], true, { type: 7 }, { type: "frobnicate" }, { type: "ping" }])))],
        after: "wait",
        expectCode: "bad-request",
      };
    case 9:
      return { name: "random json", chunks: [frame(JSON.stringify(randomJsonValue(rng)))], after: rng.chance(0.7) ? "wait" : after() };
    case 10: {
      // Type-correct compile requests with nonsense in them: run-local or an error, never a crash.
      const req = {
        type: "compile",
        clientVersion: rng.pick(["0.1.0", "0.0.1", "abc", ""]),
        compiler: rng.pick(["gcc", "/nonexistent/cc", "definitely-not-a-compiler", "/bin/true", "clang"]),
        args: rng.pick([[], ["--version"], ["-c", "/nonexistent/x.c", "-o", "/nonexistent/x.o"], ["-E", "-"], ["-c"], ["-x", "c", "-c"]]),
        cwd: rng.pick(["/", "/nonexistent-dir", work]),
        env: rng.chance(0.5) ? { PATH: "/usr/bin:/bin" } : {},
        clientPid: rng.pick([0, -1, 2 ** 31 - 1, process.pid]),
      };
      return { name: "nonsense compile", chunks: [frame(JSON.stringify(req))], after: rng.chance(0.8) ? "wait" : "destroy" };
    }
    case 11: {
      const req = {
        type: "compile",
        clientVersion: "0.1.0",
        compiler: "gcc",
        args: rng.pick([{}, "gcc -c", [1, 2], null]),
        cwd: rng.pick(["relative/dir", 7, null]),
        env: rng.pick([{ A: 1 }, [], "PATH=/bin"]),
        clientPid: rng.pick([1.5, "12", null]),
      };
      return { name: "ill-typed compile", chunks: [frame(JSON.stringify(req))], after: "wait", expectCode: "bad-request" };
    }
    case 12: {
      const reqs = [
        { type: "status", clientVersion: "0.1.0" },
        { type: "explain", clientVersion: "0.1.0", path: `/nonexistent/${rng.int(1e6)}.o` },
        { type: "session-stats", clientVersion: "0.1.0", id: `s-${rng.int(1e6)}` },
        { type: "session-end", clientVersion: "0.1.0", id: `s-${rng.int(1e6)}` },
        { type: "ping", clientVersion: "0.1.0", extra: "x".repeat(rng.int(5000)) },
      ];
      return { name: "benign request", chunks: [frame(JSON.stringify(rng.pick(reqs)))], after: "wait" };
    }
    case 13: {
      // A whole ping written one byte at a time: reassembled, answered.
      const f = frame(ping);
      const chunks = rng.chance(0.3) ? [...f].map((b) => Buffer.from([b])) : [f.subarray(0, 5), f.subarray(5, 13), f.subarray(13)];
      return { name: "ping in pieces", chunks, after: "wait", expectType: "pong" };
    }
    case 14: {
      const f = frame(ping);
      if (rng.chance(0.5)) return { name: "two frames in one write", chunks: [Buffer.concat([f, f])], after: "wait", expectType: "pong" };
      // Trailing garbage after a whole request: a pong or an error, depending on how the
      // bytes arrive; either way an answer, and the daemon lives.
      return { name: "a frame and trailing garbage", chunks: [Buffer.concat([f, rng.bytes(20)])], after: "wait" };
    }
    case 15: {
      // A large valid frame (up to 2 MiB): reassembled from many reads and answered.
      const pad = "p".repeat(rng.range(64 * 1024, 2 * 1024 * 1024));
      return { name: "large ping", chunks: [frame(JSON.stringify({ type: "ping", clientVersion: "0.1.0", pad }))], after: "wait", expectType: "pong" };
    }
    default: {
      // Half of a big frame, then gone: the daemon must drop what it buffered.
      const declared = rng.range(256 * 1024, 4 * 1024 * 1024);
      return { name: "big frame abandoned", chunks: [header(declared), rng.bytes(rng.range(1, declared >> 1))], after: "destroy" };
    }
  }
}

test(
  `wire fuzzing: ${FRAMES} hostile connections; the daemon serves on and leaks nothing`,
  async () => {
    console.log(`wire fuzz: ZCCACHE_WIRE_SEED=${SEED} ZCCACHE_WIRE_FRAMES=${FRAMES}`);
    const rng = new Rng(SEED);
    const c = new CacheEnv();
    expect(c.zc(["start"]).code).toBe(0);
    const st0 = c.status();
    const pid = st0.pid;
    const socketPath = st0.socket;

    let started = 0;
    let served = 0;
    /** A well-behaved client: a ping answered by the same daemon, and a compile equal to bare. */
    const healthy = async (): Promise<string> => {
      // Checks overlap (five run during the storm): each takes its own number before its
      // first await, so no two share a source or an object file.
      const n = ++started;
      const r = await fuzzExchange(socketPath, [frame(JSON.stringify({ type: "ping", clientVersion: "0.1.0" }))], "wait");
      const f = firstFrame(r.data);
      if (f?.type !== "pong" || f.pid !== pid) return `check ${n}: ping answered ${JSON.stringify(f)}`;
      const src = `ok${n}.c`;
      c.write(src, `int healthy_${n}(int x) { return x * ${n}; }\n`);
      const z = await c.zcAsync(["gcc", "-O1", "-c", src, "-o", `ok${n}.o`]);
      if (z.code !== 0 || z.err !== "") return `check ${n}: compile through the daemon failed: ${z.err}`;
      const b = bare(["gcc", "-O1", "-c", src, "-o", `ok${n}.bare.o`], c.work);
      if (!fs.readFileSync(path.join(c.work, `ok${n}.o`)).equals(fs.readFileSync(path.join(c.work, `ok${n}.bare.o`)))) {
        return `check ${n}: object of ${src} differs from bare (${b.code})`;
      }
      served++;
      return "";
    };

    const problems: string[] = [];
    const runCases = async (count: number): Promise<void> => {
      const cases = Array.from({ length: count }, () => makeCase(rng, c.work));
      await pool(
        32,
        cases.map((k) => async () => {
          const r = await fuzzExchange(socketPath, k.chunks, k.after, 15_000);
          if (k.after !== "wait") return;
          const f = firstFrame(r.data);
          if (k.expectCode !== undefined && (f?.type !== "error" || f.code !== k.expectCode)) {
            problems.push(`${k.name}: expected error ${k.expectCode}, got ${JSON.stringify(f)?.slice(0, 200)}`);
          }
          if (k.expectType !== undefined && f?.type !== k.expectType) {
            problems.push(`${k.name}: expected ${k.expectType}, got ${JSON.stringify(f)?.slice(0, 200)}`);
          }
          if (k.expectCode === undefined && k.expectType === undefined && f === null && !r.closed) {
            problems.push(`${k.name}: no reply and no hang-up within 15 s`);
          }
        }),
      );
    };

    // Warm up, so the baseline includes what a served daemon normally holds.
    await runCases(Math.min(300, FRAMES));
    expect(await healthy()).toBe("");
    // The baseline once the warm-up's connections are closed: the same count three times in a row.
    let fd0 = fdCount(pid);
    for (let same = 0, deadline = Date.now() + 10_000; same < 3 && Date.now() < deadline; ) {
      await sleepMs(100);
      const now = fdCount(pid);
      same = now === fd0 ? same + 1 : 0;
      fd0 = now;
    }
    const rss0 = vmRssKb(pid);

    // Clients that connect and never send, and clients holding part of a frame.
    const held: net.Socket[] = [];
    for (let i = 0; i < 48; i++) held.push(await hold(socketPath, Buffer.alloc(0)));
    for (let i = 0; i < 16; i++) held.push(await hold(socketPath, header(100).subarray(0, rng.range(1, 11))));
    for (let i = 0; i < 16; i++) held.push(await hold(socketPath, Buffer.concat([header(1 << 20), rng.bytes(64 * 1024)])));
    // The daemon really holds them all (one descriptor each) while it goes on serving.
    expect(await waitUntil(() => fdCount(pid) >= fd0 + held.length, 10_000)).toBe(true);
    expect(await healthy()).toBe("");

    // The storm, with well-behaved clients mixed in.
    const storm = runCases(FRAMES);
    const checks: Promise<string>[] = [];
    for (let i = 0; i < 5; i++) {
      await sleepMs(200);
      checks.push(healthy());
    }
    await storm;
    expect((await Promise.all(checks)).filter((p) => p !== "")).toEqual([]);
    expect(problems).toEqual([]);

    // Clients that hang up in the middle of a real compile.
    c.write("slow.c", Array.from({ length: 300 }, (_, i) => `int slow_${i}(int x) { return x * ${i} + ${i * 7}; }`).join("\n"));
    const compileReq = (i: number): Buffer =>
      frame(
        JSON.stringify({
          type: "compile",
          clientVersion: "0.1.0",
          compiler: "gcc",
          args: ["-O2", `-DHANGUP=${i}`, "-c", "slow.c", "-o", `slow${i}.o`],
          cwd: c.work,
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
          clientPid: process.pid,
        }),
      );
    await pool(
      8,
      Array.from({ length: 24 }, (_, i) => () => fuzzExchange(socketPath, [compileReq(i)], "destroy")),
    );
    for (const s of held) s.destroy();
    expect(await healthy()).toBe("");

    // Same daemon, nothing leaked: descriptors back to where they were once the in-flight
    // compiles are done, and memory within a generous bound.
    expect(c.daemonPids()).toEqual([pid]);
    expect(c.status().pid).toBe(pid);
    await waitUntil(() => fdCount(pid) <= fd0 + 2, 30_000, 100);
    const fd1 = fdCount(pid);
    const rss1 = vmRssKb(pid);
    console.log(`wire fuzz: fds ${fd0} -> ${fd1}, VmRSS ${rss0} kB -> ${rss1} kB, ${served} healthy checks`);
    expect(fd1).toBeLessThanOrEqual(fd0 + 2);
    expect(rss1).toBeLessThanOrEqual(rss0 + 128 * 1024);
    const st1 = c.status();
    expect(st1.pid).toBe(pid);
  },
  300_000,
);
