// What the native launcher sends, to which socket, and when it does not try at all: the
// request frame's fields, symlink mode, and every case handed straight to zccache-core.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers.ts";
import { BUILDS, buildFixtures, frame, KIND, parseRequest, resultPayload, Sandbox, sanitizerReport } from "./scripted.ts";

let fx: ReturnType<typeof buildFixtures>;
beforeAll(() => {
  fx = buildFixtures();
});
afterAll(() => fs.rmSync(fx.dir, { recursive: true, force: true }));

const PRODUCT_VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;

/** SUBCOMMANDS of src/main.ts, read from its source so the launcher's copy cannot drift. */
function mainSubcommands(): string[] {
  const src = fs.readFileSync(path.join(REPO_ROOT, "src", "main.ts"), "utf8");
  const m = /const SUBCOMMANDS = new Set\(\[([^\]]*)\]\)/.exec(src);
  if (m === null) throw new Error("src/main.ts has no SUBCOMMANDS set");
  return [...(m[1] ?? "").matchAll(/"([^"]+)"/g)].map((x) => x[1] ?? "");
}

function coreLine(args: string[]): string {
  return `CORE${args.map((a) => ` [${a}]`).join("")}\n`;
}

for (const build of BUILDS) {
  describe(path.basename(build), () => {
    let box: Sandbox;
    const withBox = (fn: () => Promise<void>) => async () => {
      box = new Sandbox(build, fx.core);
      try {
        await fn();
      } finally {
        box.dispose();
      }
    };
    const answerOk = (): void => box.serve((reply) => reply.send(frame(KIND.reply, resultPayload(0, "served\n", ""))));

    test(
      "the request frame carries argv, cwd, the whole environment, pid and session",
      withBox(async () => {
        answerOk();
        const r = await box.run([box.launcher, "gcc", "-c", "a b.c", "-DX=\u00e9"], {
          ZCCACHE_SESSION_ID: "sess-1",
          ZCCACHE_TEST_MARK: "a=b",
        });
        expect(sanitizerReport(r)).toBeNull();
        expect(r.out).toBe("served\n");
        const req = parseRequest(box.requests[0] ?? Buffer.alloc(0));
        expect({ ...req, env: [] }).toEqual({
          version: 2,
          kind: KIND.request,
          clientVersion: PRODUCT_VERSION,
          compiler: "gcc",
          cwd: box.work,
          selfExe: "",
          sessionId: "sess-1",
          clientPid: r.pid,
          args: ["-c", "a b.c", "-DX=\u00e9"],
          env: [],
        });
        const expected = Object.entries(box.env({ ZCCACHE_SESSION_ID: "sess-1", ZCCACHE_TEST_MARK: "a=b" }))
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${v}`);
        expect(req.env.sort()).toEqual(expected.sort());
      }),
    );

    test(
      "test overrides of the product and protocol version apply to the launcher as to the TS client",
      withBox(async () => {
        answerOk();
        const r = await box.run([box.launcher, "gcc", "-c", "a.c"], { ZCCACHE_TEST_DAEMON_VERSION: "99.0.0" });
        expect(r.out).toBe("served\n");
        // A launcher speaking protocol 7 reads the daemon's version-2 answer as "not mine": hand over.
        const r2 = await box.run([box.launcher, "gcc", "-c", "a.c"], { ZCCACHE_TEST_PROTOCOL_VERSION: "7" });
        expect(r2.out).toStartWith(coreLine([box.launcher, "gcc", "-c", "a.c"]));
        const [first, second] = box.requests.map(parseRequest);
        expect([first?.clientVersion, first?.version, second?.clientVersion, second?.version]).toEqual(["99.0.0", 2, PRODUCT_VERSION, 7]);
      }),
    );

    test(
      "symlink mode: the compiler is the invoked name and selfExe the launcher's real path",
      withBox(async () => {
        answerOk();
        fs.mkdirSync(path.join(box.dir, "bin"));
        const gcc = path.join(box.dir, "bin", "gcc");
        fs.symlinkSync(box.launcher, gcc);
        const r = await box.run([gcc, "-c", "x.c"]);
        expect(r.out).toBe("served\n");
        const req = parseRequest(box.requests[0] ?? Buffer.alloc(0));
        expect([req.compiler, req.selfExe, req.sessionId, ...req.args]).toEqual(["gcc", fs.realpathSync(box.launcher), "", "-c", "x.c"]);
      }),
    );

    test(
      "symlink mode hands over with argv[0] as invoked and names the launcher",
      withBox(async () => {
        fs.mkdirSync(path.join(box.dir, "bin"));
        const gcc = path.join(box.dir, "bin", "gcc");
        fs.symlinkSync(box.launcher, gcc);
        const r = await box.run([gcc, "-c", "x.c"], { ZCCACHE_DISABLE: "1" });
        expect(r.out).toBe(`${coreLine([gcc, "-c", "x.c"])}LAUNCHER_EXE=${fs.realpathSync(box.launcher)}\nREENTERED=\nHANDOVER=\n`);
      }),
    );

    test(
      "commands, options, no args, ZCCACHE_DISABLE, a bad deadline and a re-entry go to zccache-core without a connection",
      withBox(async () => {
        answerOk();
        const cases: [string[], Record<string, string>][] = [
          [[], {}],
          [["--help"], {}],
          [["-s"], {}],
          ...mainSubcommands().map((c): [string[], Record<string, string>] => [[c, "x"], {}]),
          [["gcc", "-c", "a.c"], { ZCCACHE_DISABLE: "1" }],
          [["gcc", "-c", "a.c"], { ZCCACHE_DISABLE: "0" }],
          // A malformed deadline is the TS program's to report.
          [["gcc", "-c", "a.c"], { ZCCACHE_CLIENT_TIMEOUT_SECS: "0" }],
          [["gcc", "-c", "a.c"], { ZCCACHE_CLIENT_TIMEOUT_SECS: "1.5" }],
        ];
        expect(cases.length).toBeGreaterThan(15);
        for (const [args, env] of cases) {
          const r = await box.run([box.launcher, ...args], env);
          expect(sanitizerReport(r)).toBeNull();
          expect(r.out).toStartWith(coreLine([box.launcher, ...args]));
          expect(r.out).toContain("\nREENTERED=\n");
        }
        const re = await box.run([box.launcher, "gcc", "-c", "a.c"], { ZCCACHE_REENTERED: "1:2:3" });
        // Re-entered: the core must skip this launcher on PATH too, so it joins the marker.
        expect(re.out).toEndWith(`\nREENTERED=1:2:3,${box.launcherId()}\nHANDOVER=\n`);
        expect(box.connections).toBe(0);
      }),
    );

    test(
      "no socket, or no runtime dir yet, hands over (zccache-core starts the daemon)",
      withBox(async () => {
        const r = await box.run([box.launcher, "gcc", "-c", "a.c"]);
        expect(r.out).toStartWith(coreLine([box.launcher, "gcc", "-c", "a.c"]));
        const absent = path.join(box.dir, "not-yet");
        const r2 = await box.run([box.launcher, "gcc", "-c", "a.c"], { ZCCACHE_RUNTIME_DIR: absent });
        expect(r2.out).toStartWith(coreLine([box.launcher, "gcc", "-c", "a.c"]));
        expect(fs.existsSync(absent)).toBe(false);
      }),
    );

    test(
      "a runtime dir open to others or replaced by a symlink is never connected to",
      withBox(async () => {
        answerOk();
        fs.chmodSync(box.runtimeDir, 0o755);
        const r = await box.run([box.launcher, "gcc", "-c", "a.c"]);
        expect(r.out).toStartWith(coreLine([box.launcher, "gcc", "-c", "a.c"]));
        fs.chmodSync(box.runtimeDir, 0o700);
        const link = path.join(box.dir, "run-link");
        fs.symlinkSync(box.runtimeDir, link);
        const r2 = await box.run([box.launcher, "gcc", "-c", "a.c"], { ZCCACHE_RUNTIME_DIR: link });
        expect(r2.out).toStartWith(coreLine([box.launcher, "gcc", "-c", "a.c"]));
        expect(box.connections).toBe(0);
        expect(fs.statSync(box.runtimeDir).mode & 0o777).toBe(0o700);
      }),
    );

    test(
      "a refused runtime dir falls back to the private <cache root>/run, like the TS client",
      withBox(async () => {
        fs.chmodSync(box.runtimeDir, 0o755);
        const fallback = path.join(box.cacheDir, "run");
        fs.mkdirSync(fallback, { recursive: true, mode: 0o700 });
        box.serve((reply) => reply.send(frame(KIND.reply, resultPayload(0, "fallback dir\n", ""))), path.join(fallback, path.basename(box.socketPath)));
        const r = await box.run([box.launcher, "gcc", "-c", "a.c"]);
        expect(r.out).toBe("fallback dir\n");
        expect(box.connections).toBe(1);
      }),
    );
  });
}
