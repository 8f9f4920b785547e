// The native launcher against a scripted daemon: replies replayed byte for byte through any
// kind of stdout, and every malformed, late or broken reply handed over to zccache-core.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import type { RunResult } from "../helpers.ts";
import {
  BUILDS,
  buildFixtures,
  frame,
  KIND,
  resultPayload,
  runLocalPayload,
  Sandbox,
  sanitizerReport,
  VERSION,
} from "./scripted.ts";

let fx: ReturnType<typeof buildFixtures>;
beforeAll(() => {
  fx = buildFixtures();
});
afterAll(() => fs.rmSync(fx.dir, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Bytes no text path would keep intact: NULs, invalid UTF-8, a BOM, a lone CR. */
function noisy(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function expectClean(r: RunResult): void {
  expect(sanitizerReport(r)).toBeNull();
}

function expectHandedOver(r: RunResult, args: string[]): void {
  expectClean(r);
  expect(r.code).toBe(0);
  expect(r.out).toStartWith(`CORE${args.map((a) => ` [${a}]`).join("")}\n`);
}

for (const build of BUILDS) {
  describe(path.basename(build), () => {
    let box: Sandbox;
    const withBox = (fn: () => Promise<void> | void) => async () => {
      box = new Sandbox(build, fx.core);
      try {
        await fn();
      } finally {
        box.dispose();
      }
    };

    test(
      "a result reply is replayed byte for byte with its exit code",
      withBox(async () => {
        const out = noisy(4096, 1);
        const err = Buffer.concat([Buffer.from("\uFEFFwarning: x\r\n"), noisy(100, 2)]);
        box.serve((reply) => reply.send(frame(KIND.reply, resultPayload(3, out, err))));
        const r = await box.run([box.launcher, "gcc", "-c", "a.c"]);
        expectClean(r);
        expect(r.code).toBe(3);
        expect(r.stdout.equals(out)).toBe(true);
        expect(r.stderr.equals(err)).toBe(true);
      }),
    );

    test(
      "stdout and stderr larger than a pipe buffer arrive whole",
      withBox(async () => {
        const out = noisy(3 << 20, 3);
        const err = noisy(1 << 20, 4);
        box.serve((reply) => reply.send(frame(KIND.reply, resultPayload(0, out, err))));
        const r = await box.run([box.launcher, "gcc", "-c", "a.c"]);
        expectClean(r);
        expect(r.stdout.length).toBe(out.length);
        expect(r.stdout.equals(out)).toBe(true);
        expect(r.stderr.equals(err)).toBe(true);
      }),
    );

    test(
      "a non-blocking stdout (EAGAIN) loses nothing",
      withBox(async () => {
        const out = noisy(2 << 20, 5);
        box.serve((reply) => reply.send(frame(KIND.reply, resultPayload(0, out, "e"))));
        const r = await box.run([fx.nonblock, box.launcher, "gcc", "-c", "a.c"]);
        expectClean(r);
        expect(r.stdout.equals(out)).toBe(true);
        expect(r.err).toEndWith("e");
      }),
    );

    test(
      "writes failing with EINTR, EAGAIN or writing a few bytes are retried until complete",
      withBox(async () => {
        const out = noisy(5000, 6);
        const err = noisy(3001, 7);
        box.serve((reply) => reply.send(frame(KIND.reply, resultPayload(1, out, err))));
        // The sanitizer runtime must come first among preloads; the check would refuse the shim.
        const r = await box.run([box.launcher, "gcc", "-c", "a.c"], {
          LD_PRELOAD: fx.shim,
          ASAN_OPTIONS: "detect_leaks=1:verify_asan_link_order=0:exitcode=86",
        });
        expect(r.code).toBe(1);
        expect(r.stdout.equals(out)).toBe(true);
        expect(r.stderr.subarray(r.stderr.length - err.length).equals(err)).toBe(true);
        expect(r.stderr.length).toBe(err.length);
      }),
    );

    test(
      "progress frames keep a slow daemon's answer alive past the deadline",
      withBox(async () => {
        box.serve(async (reply) => {
          // 4.5 s in all, a frame every 0.3 s, against a 3 s deadline.
          for (let i = 0; i < 15; i++) {
            await sleep(300);
            reply.send(frame(KIND.progress, new Uint8Array(0)));
          }
          reply.send(frame(KIND.reply, resultPayload(0, "slow but fine\n", "")));
        });
        const r = await box.run([box.launcher, "gcc", "-c", "a.c"], { ZCCACHE_CLIENT_TIMEOUT_SECS: "3" });
        expectClean(r);
        expect(r.out).toBe("slow but fine\n");
      }),
    );

    test(
      "a daemon silent past ZCCACHE_CLIENT_TIMEOUT_SECS is left for zccache-core",
      withBox(async () => {
        box.serve(() => {});
        const sentAfterMs = Date.now();
        const r = await box.run([box.launcher, "gcc", "-c", "a.c"], { ZCCACHE_CLIENT_TIMEOUT_SECS: "1" });
        expectHandedOver(r, [box.launcher, "gcc", "-c", "a.c"]);
        expect(box.requests.length).toBe(1);
        // The core is told, so it replaces the daemon instead of waiting out a second deadline.
        const sentAtMs = Number(/\nHANDOVER=silent:(\d+)\n/.exec(r.out)?.[1]);
        expect(sentAtMs).toBeGreaterThanOrEqual(sentAfterMs - 1000);
        expect(sentAtMs).toBeLessThanOrEqual(Date.now());
      }),
    );

    test(
      "kind-0 frames, other versions, bad magic and oversized headers hand over without output",
      withBox(async () => {
        const good = resultPayload(0, "SHOULD NOT APPEAR", "SHOULD NOT APPEAR");
        const bad: Buffer[] = [
          frame(KIND.json, Buffer.from(JSON.stringify({ type: "error", code: "daemon-outdated", message: "m", daemonVersion: "9", pid: 1 }))),
          frame(KIND.reply, good, VERSION - 1),
          frame(KIND.reply, good, VERSION + 1),
          Buffer.concat([Buffer.from("XXXX"), frame(KIND.reply, good).subarray(4)]),
          frame(KIND.reply, new Uint8Array(0), VERSION, 64 * 1024 * 1024 + 1),
          frame(KIND.request, good),
          frame(9, good),
        ];
        let i = 0;
        box.serve((reply) => reply.send(bad[i++] ?? Buffer.alloc(0)));
        for (let k = 0; k < bad.length; k++) {
          const r = await box.run([box.launcher, "g++", "-O2", "x.cc"]);
          expectHandedOver(r, [box.launcher, "g++", "-O2", "x.cc"]);
          expect(r.out + r.err).not.toContain("SHOULD NOT APPEAR");
          expect(r.out).toContain("\nHANDOVER=\n");
        }
        expect(box.requests.length).toBe(bad.length);
      }),
    );

    test(
      "malformed kind-2 payloads and a daemon hanging up mid-reply hand over without output",
      withBox(async () => {
        const full = frame(KIND.reply, resultPayload(0, "SHOULD NOT APPEAR", ""));
        const scripts: Buffer[][] = [
          [frame(KIND.reply, Buffer.of(7))],
          [frame(KIND.reply, new Uint8Array(0))],
          [frame(KIND.reply, Buffer.concat([resultPayload(0, "SHOULD NOT APPEAR", ""), Buffer.of(0)]))],
          [frame(KIND.reply, resultPayload(0, "SHOULD NOT APPEAR", "").subarray(0, 12))],
          [frame(KIND.reply, Buffer.concat([Buffer.of(0, 0, 0, 0, 0), Buffer.from([0xf0, 0xff, 0xff, 0xff])]))],
          [frame(KIND.reply, Buffer.concat([Buffer.of(1), Buffer.from([200, 0, 0, 0]), Buffer.from("/bin/true")]))],
          [frame(KIND.progress, Buffer.from("x"))],
          [full.subarray(0, 20)],
          [full.subarray(0, 7)],
        ];
        let i = 0;
        box.serve((reply) => {
          for (const part of scripts[i++] ?? []) reply.send(part);
          reply.close();
        });
        for (let k = 0; k < scripts.length; k++) {
          const r = await box.run([box.launcher, "cc", "-c", "m.c"]);
          expectHandedOver(r, [box.launcher, "cc", "-c", "m.c"]);
          expect(r.out + r.err).not.toContain("SHOULD NOT APPEAR");
        }
      }),
    );

    test(
      "a daemon that hangs up while the request is sent costs no SIGPIPE",
      withBox(async () => {
        box.serveHangUp();
        // A request far larger than the socket buffer: the launcher is still sending when the peer is gone.
        const r = await box.run([box.launcher, "gcc", "-c", "a.c"], Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`ZCCACHE_TEST_BIG${i}`, "x".repeat(100_000)])));
        expectHandedOver(r, [box.launcher, "gcc", "-c", "a.c"]);
        expect(box.connections).toBe(1);
      }),
    );

    test(
      "run-local execs the named compiler with the original args, every fd and the recursion marker",
      withBox(async () => {
        const compiler = path.join(box.dir, "fake-cc");
        fs.writeFileSync(compiler, '#!/bin/sh\necho "ran $0 $* marker=$ZCCACHE_REENTERED"\necho "fd5 works" >&5\nexit 7\n', { mode: 0o755 });
        box.serve((reply) => reply.send(frame(KIND.reply, runLocalPayload(compiler))));
        const fd5 = path.join(box.dir, "fd5.txt");
        const r = await box.run(["sh", "-c", 'exec 5>"$0"; exec "$@"', fd5, box.launcher, "gcc", "-c", "a b.c"]);
        expectClean(r);
        expect(r.code).toBe(7);
        expect(r.out).toBe(`ran ${compiler} -c a b.c marker=${box.launcherId()}\n`);
        expect(fs.readFileSync(fd5, "utf8")).toBe("fd5 works\n");
      }),
    );

    test(
      "run-local without a compiler path hands over",
      withBox(async () => {
        box.serve((reply) => reply.send(frame(KIND.reply, runLocalPayload(""))));
        const r = await box.run([box.launcher, "gcc", "-c", "a.c"]);
        expectHandedOver(r, [box.launcher, "gcc", "-c", "a.c"]);
        expect(r.out).not.toContain("marker");
        // The daemon counted it already: the core must run it without asking again.
        expect(r.out).toContain("\nHANDOVER=run-local\n");
      }),
    );
  });
}
