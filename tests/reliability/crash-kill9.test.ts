// Crash safety: a parallel build runs while the daemon is kill -9'd at random moments, many
// times over. Every compile must finish with the object a bare compile produces, the next
// daemon must start cleanly, and no index entry may ever point at a missing or partial blob
// (checked by reading the store after the storm, and by comparing every later hit to bare).
import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, type RunResult, sleepMs } from "../helpers.ts";
import { blobContent, blobPath, intFromEnv, killQuietly, outputsOf, pool, readIndex, Rng, seedFromEnv, sha256, waitUntil } from "./lib.ts";

afterAll(() => CacheEnv.stopAll());

const SEED = seedFromEnv("ZCCACHE_CRASH_SEED");
const MIN_KILLS = intFromEnv("ZCCACHE_CRASH_KILLS", 24);
const FILES = 24;
const PARALLEL = 6;

function sourceText(i: number, version: number): string {
  const fns: string[] = [];
  // Enough work that the compile is still running when a kill lands.
  for (let k = 0; k < 40; k++) {
    fns.push(
      `int f${i}_${k}(int x) { int s = ${version} + G${i % 4}; for (int j = 0; j < x; j++) s = s * ${k + 3} + (j ^ ${i}); return s + COMMON; }`,
    );
  }
  return `#include "common.h"\n#include "g${i % 4}.h"\n${fns.join("\n")}\n`;
}

/**
 * Compiles ended mid-way (their driver gets SIGTERM with the daemon) can leave a cc1's
 * temporary file behind, as a killed gcc does: keep them in this env's own directory.
 */
function privateTmp(c: CacheEnv): void {
  const dir = path.join(c.base, "tmp");
  fs.mkdirSync(dir, { recursive: true });
  c.env.TMPDIR = dir;
}

test(
  `kill -9 of the daemon at random moments during parallel builds (>= ${MIN_KILLS} kills)`,
  async () => {
    console.log(`crash storm: ZCCACHE_CRASH_SEED=${SEED} ZCCACHE_CRASH_KILLS=${MIN_KILLS}`);
    const rng = new Rng(SEED);
    const c = new CacheEnv();
    privateTmp(c);
    const versions = new Array<number>(FILES).fill(0);
    c.write("inc/common.h", "#define COMMON 7\n");
    for (let g = 0; g < 4; g++) c.write(`inc/g${g}.h`, `#define G${g} ${g * 11}\n`);
    for (let i = 0; i < FILES; i++) c.write(`src/f${i}.c`, sourceText(i, 0));
    fs.mkdirSync(path.join(c.work, "out"), { recursive: true });
    fs.mkdirSync(path.join(c.work, "ref"), { recursive: true });

    const args = (i: number, out: string): string[] => ["gcc", "-O1", "-Iinc", "-c", `src/f${i}.c`, "-o", `${out}/f${i}.o`];
    const refs = new Map<number, Buffer>();
    const refresh = (i: number): void => {
      const r = bare(args(i, "ref"), c.work);
      if (r.code !== 0) throw new Error(`bare compile of f${i} failed: ${r.err}`);
      refs.set(i, fs.readFileSync(path.join(c.work, `ref/f${i}.o`)));
    };
    for (let i = 0; i < FILES; i++) refresh(i);

    const problems: string[] = [];
    const check = (i: number, r: RunResult, when: string): void => {
      const obj = path.join(c.work, `out/f${i}.o`);
      if (r.code !== 0) problems.push(`${when}: f${i} exited ${r.code}: ${r.err}`);
      else if (r.err !== "") problems.push(`${when}: f${i} printed to stderr: ${r.err}`);
      else if (!fs.existsSync(obj)) problems.push(`${when}: f${i}.o missing after a successful compile`);
      else if (!fs.readFileSync(obj).equals(refs.get(i) as Buffer)) problems.push(`${when}: f${i}.o differs from bare`);
    };

    let kills = 0;
    let round = 0;
    const maxRounds = MIN_KILLS * 2;
    while (kills < MIN_KILLS && round < maxRounds && problems.length === 0) {
      round++;
      // New content for some sources (fresh keys: misses that write blobs while we kill),
      // sometimes a header several sources share.
      for (const i of rng.shuffle([...Array(FILES).keys()]).slice(0, rng.range(3, 10))) {
        versions[i] = (versions[i] as number) + 1;
        c.write(`src/f${i}.c`, sourceText(i, (versions[i] as number) * 1000 + round));
        refresh(i);
      }
      if (rng.chance(0.3)) {
        const g = rng.int(4);
        c.write(`inc/g${g}.h`, `#define G${g} ${round * 13 + g}\n`);
        for (let i = g; i < FILES; i += 4) refresh(i);
      }

      let building = true;
      const build = pool(
        PARALLEL,
        [...Array(FILES).keys()].map((i) => async () => {
          fs.rmSync(path.join(c.work, `out/f${i}.o`), { force: true });
          const r = await c.zcAsync(args(i, "out"));
          check(i, r, `round ${round}`);
        }),
      ).finally(() => {
        building = false;
      });
      const killer = (async () => {
        let here = 0;
        while (building && here < 3) {
          await sleepMs(rng.range(5, 350));
          if (!building) break;
          for (const pid of c.daemonPids()) {
            if (killQuietly(pid)) {
              kills++;
              here++;
            }
          }
        }
      })();
      await Promise.all([build, killer]);
    }
    const litter = fs.readdirSync(path.join(c.work, "out")).filter((n) => n.endsWith(".tmp"));
    console.log(`crash storm: ${kills} kills over ${round} rounds; ${litter.length} temp files left in the output dir`);
    expect(problems).toEqual([]);
    expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);

    // The next daemon starts cleanly, alone, with a usable store (a daemon that lost the
    // last race for the lock may still be on its way out).
    await waitUntil(() => c.daemonPids().length <= 1, 15_000);
    const st = c.status();
    expect(st.store).toBe("ok");
    expect(c.daemonPids()).toEqual([st.pid]);
    const log = fs.readFileSync(path.join(c.root, "logs", "daemon.log"), "utf8");
    expect(log).not.toContain("index was unreadable");

    // No entry in the index may reference a blob that is missing or not what it claims.
    expect(c.zc(["stop"]).code).toBe(0);
    const entries = readIndex(c.root);
    expect(entries.length).toBeGreaterThan(0);
    const half: string[] = [];
    for (const e of entries) {
      for (const o of outputsOf(e.record)) {
        const p = blobPath(c.root, o.hash);
        if (!fs.existsSync(p)) half.push(`entry ${e.id}: blob ${o.hash} missing`);
        else {
          const b = blobContent(c.root, o.hash);
          if (b === null || b.length !== o.size || sha256(b) !== o.hash) half.push(`entry ${e.id}: blob ${o.hash} is not its content`);
        }
      }
    }
    expect(half).toEqual([]);

    // A quiet build afterwards: every compile (mostly hits now) equals bare, and each is counted.
    const before = c.status();
    await pool(
      PARALLEL,
      [...Array(FILES).keys()].map((i) => async () => {
        fs.rmSync(path.join(c.work, `out/f${i}.o`), { force: true });
        check(i, await c.zcAsync(args(i, "out")), "after the storm");
      }),
    );
    expect(problems).toEqual([]);
    const after = c.status();
    expect(after.pid).toBe(before.pid);
    expect(after.hits - before.hits + (after.misses - before.misses)).toBe(FILES);
    expect(after.hits - before.hits).toBeGreaterThan(0);
    expect(after.errors - before.errors).toBe(0);
  },
  300_000,
);

test("a compiler the daemon was running when it was killed -9 does not go on to write its output", async () => {
  // "gcc" is a script ahead of the real one that waits before compiling: were the daemon's run
  // left going, it would rewrite the output after the client had compiled it again by itself.
  const c = new CacheEnv({ ZCCACHE_CLIENT_TIMEOUT_SECS: "30" });
  privateTmp(c);
  const bin = path.join(c.work, "bin");
  c.write(
    "bin/gcc",
    `#!/bin/sh\ncase " $* " in *" -c "*) echo started >> "${c.work}/runs"; sleep 3; echo late >> "${c.work}/late";; esac\nexec /usr/bin/gcc "$@"\n`,
  );
  fs.chmodSync(path.join(bin, "gcc"), 0o755);
  c.write("a.c", "int slow_one(void) { return 1; }\n");
  const env = { PATH: `${bin}:${process.env.PATH ?? ""}` };
  expect(c.zc(["start"], { env }).code).toBe(0);
  const compile = c.zcAsync(["gcc", "-c", "a.c", "-o", "a.o"], { env });
  // Kill the daemon once it is running the compiler.
  expect(await waitUntil(() => fs.existsSync(path.join(c.work, "runs")), 20_000)).toBe(true);
  for (const pid of c.daemonPids()) killQuietly(pid);
  const r = await compile;
  expect(r.code).toBe(0);
  const lines = (f: string): number =>
    fs.existsSync(path.join(c.work, f)) ? fs.readFileSync(path.join(c.work, f), "utf8").split("\n").filter((l) => l !== "").length : 0;
  // The compile ran again after the kill (by the client or a new daemon) and finished...
  expect(lines("runs")).toBe(2);
  // ...and the daemon's run, given time to go on, never got past its wait.
  await sleepMs(4_500);
  expect(lines("late")).toBe(1);
}, 60_000);
