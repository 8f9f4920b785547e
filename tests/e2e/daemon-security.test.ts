// Who can reach the daemon: a private runtime dir and socket, a trustworthy status report,
// and management commands that refuse what they do not understand.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { CacheEnv, type RunResult, tempDir } from "../helpers.ts";
import { bareObject, expectOk } from "../assertions.ts";

afterAll(() => CacheEnv.stopAll());

const UID = process.getuid?.() ?? 0;

function expectOneLineError(r: RunResult): void {
  expect(r.code).not.toBe(0);
  expect(r.out).toBe("");
  const lines = r.err.split("\n").filter((l) => l.trim() !== "");
  expect(lines.length).toBe(1);
  expect(lines[0]).toContain("zccache");
}

function encodeFrame(payload: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(payload), "utf8");
  const h = Buffer.alloc(12);
  h.writeUInt32LE(0x4643435a, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(0, 6);
  h.writeUInt32LE(body.length, 8);
  return Buffer.concat([h, body]);
}

const listeners: { stop(closeActive?: boolean): void }[] = [];
afterAll(() => {
  for (const l of listeners) l.stop(true);
});

describe("daemon security", () => {
  test("the runtime dir is 0700 and ours; socket and lock have no group/other bits", () => {
    const runtime = path.join(tempDir("zc-rt-"), "runtime");
    const c = new CacheEnv({ ZCCACHE_RUNTIME_DIR: runtime });
    expectOk(c.zc(["start"]));
    const st = c.status();
    expect(st.runtime_dir).toBe(runtime);
    const dir = fs.lstatSync(runtime);
    expect(dir.isDirectory()).toBe(true);
    expect(dir.mode & 0o777).toBe(0o700);
    expect(dir.uid).toBe(UID);

    expect(path.dirname(st.socket)).toBe(runtime);
    const sock = fs.lstatSync(st.socket);
    expect(sock.isSocket()).toBe(true);
    expect(sock.mode & 0o077).toBe(0);
    expect(sock.uid).toBe(UID);
    const lock = fs.lstatSync(st.socket.replace(/\.sock$/, ".lock"));
    expect(lock.isFile()).toBe(true);
    expect(lock.mode & 0o077).toBe(0);
  });

  test("the default runtime dir is /tmp/zccache-<uid>, 0700 and ours", () => {
    const c = new CacheEnv({ ZCCACHE_RUNTIME_DIR: undefined });
    const st = c.status();
    expect(st.runtime_dir).toBe(`/tmp/zccache-${UID}`);
    const dir = fs.lstatSync(st.runtime_dir);
    expect(dir.isDirectory()).toBe(true);
    expect(dir.mode & 0o777).toBe(0o700);
    expect(dir.uid).toBe(UID);
    expect(fs.lstatSync(st.socket).mode & 0o077).toBe(0);
  });

  test("a pre-existing runtime dir open to others is refused as it is; the daemon uses the private fallback", () => {
    const runtime = path.join(tempDir("zc-rt-"), "loose");
    fs.mkdirSync(runtime);
    fs.chmodSync(runtime, 0o777);
    fs.writeFileSync(path.join(runtime, "someone-elses"), "x");
    const c = new CacheEnv({ ZCCACHE_RUNTIME_DIR: runtime, XDG_RUNTIME_DIR: undefined });
    expectOk(c.zc(["start"]));
    expect(c.daemonPids().length).toBe(1);
    // Neither chmod-ed nor cleared: it may not be ours to change.
    expect(fs.lstatSync(runtime).mode & 0o777).toBe(0o777);
    expect(fs.readdirSync(runtime)).toEqual(["someone-elses"]);
    const st = c.status();
    expect(st.runtime_dir).toBe(path.join(c.root, "run"));
    expect(fs.lstatSync(st.runtime_dir).mode & 0o777).toBe(0o700);
  });

  test("the client does not trust a socket in a runtime dir owned by another user", async () => {
    const runtime = path.join(tempDir("zc-rt-"), "foreign");
    const c = new CacheEnv({ ZCCACHE_RUNTIME_DIR: runtime });
    // Learn where the socket for this cache root lives, then hand the dir to someone else.
    expectOk(c.zc(["start"]));
    const socket = c.status().socket;
    expectOk(c.zc(["stop"]));
    expect(c.daemonPids()).toEqual([]);
    fs.rmSync(socket, { force: true });
    fs.chownSync(runtime, 65534, 65534);

    // "Another user" listens there and answers every request with a fake success.
    let requests = 0;
    const fake = Bun.listen<undefined>({
      unix: socket,
      socket: {
        data(s) {
          requests++;
          s.write(
            encodeFrame({
              type: "compile-result",
              exitCode: 0,
              stdout: Buffer.from("PWNED\n").toString("base64"),
              stderr: "",
              outcome: "hit",
              daemonVersion: "0.1.0",
              pid: 1,
            }),
          );
          s.end();
        },
      },
    });
    listeners.push(fake);

    c.write("f.c", "int foreign(void) { return 3; }\n");
    const r = await c.zcAsync(["gcc", "-c", "f.c", "-o", "f.o"]);
    fake.stop(true);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain("PWNED");
    expect(fs.existsSync(path.join(c.work, "f.o"))).toBe(true);
    expect(c.read("f.o").equals(bareObject(c.work, "f.c"))).toBe(true);
    expect(requests).toBe(0);
  });

  test("status --json has numeric counters and a reasons object; human status names hits and misses", () => {
    const c = new CacheEnv();
    c.write("s.c", "int status_fn(void) { return 5; }\n");
    expectOk(c.zc(["gcc", "-c", "s.c", "-o", "s.o"]));
    expectOk(c.zc(["gcc", "-c", "s.c", "-o", "s.o"]));
    const r = c.zc(["status", "--json"]);
    expectOk(r);
    const st = JSON.parse(r.out) as Record<string, unknown>;
    for (const k of ["hits", "misses", "uncacheable", "errors", "entries", "bytes", "pid"]) {
      expect(typeof st[k]).toBe("number");
      expect(Number.isInteger(st[k])).toBe(true);
      expect(st[k] as number).toBeGreaterThanOrEqual(0);
    }
    for (const k of ["version", "socket", "runtime_dir", "cache_dir", "store"]) expect(typeof st[k]).toBe("string");
    expect(typeof st.reasons).toBe("object");
    expect(st.reasons).not.toBeNull();
    expect(Array.isArray(st.reasons)).toBe(false);
    expect(typeof st.languages).toBe("object");
    expect(st.hits).toBe(1);
    expect(st.misses).toBe(1);
    expect(st.entries).toBe(1);
    expect(st.store).toBe("ok");
    expect(st.cache_dir).toBe(c.root);
    for (const v of Object.values(st.reasons as Record<string, unknown>)) expect(typeof v).toBe("number");

    const human = c.zc(["status"]);
    expectOk(human);
    expect(human.out).toMatch(/hits\s+1\b/);
    expect(human.out).toMatch(/misses\s+1\b/);

    // stats --zero resets the counters; the daemon and the store stay.
    expectOk(c.zc(["stats", "--zero"]));
    const z = c.status();
    expect(z.hits).toBe(0);
    expect(z.misses).toBe(0);
    expect(z.entries).toBe(1);
    expect(z.pid).toBe(st.pid as number);
  });

  test("bad management commands: one-line error, non-zero exit, no daemon", () => {
    const c = new CacheEnv();
    expectOneLineError(c.zc(["status", "--bogus"]));
    expectOneLineError(c.zc(["status", "--json", "--bogus"]));
    expectOneLineError(c.zc(["stats"]));
    expectOneLineError(c.zc(["stats", "--reset"]));
    expectOneLineError(c.zc(["start", "now"]));
    expectOneLineError(c.zc(["--frobnicate"]));
    expect(c.daemonPids()).toEqual([]);
  });
});
