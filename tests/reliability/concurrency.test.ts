// Concurrency: rounds of 64 clients compiling overlapping sources (shared headers, the same
// source under several outputs, identical commands racing each other) against one daemon,
// starting from a cold start. Every result must equal a bare compile of the same command,
// nothing may be counted as an error, and per round hits + misses + uncacheable must equal
// the number of compile invocations exactly (status --json deltas).
import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, type Status } from "../helpers.ts";
import { diffObserved, observe, type Observed, removeOutputs } from "./lib.ts";

afterAll(() => CacheEnv.stopAll());

const CLIENTS = 64;
const SOURCES = 16;

interface Cmd {
  readonly argv: string[];
  readonly outputs: string[];
  /** -E: not cacheable. */
  readonly preprocessOnly: boolean;
}

function sourceText(i: number, rev: number): string {
  const warn = i % 3 === 0 ? `static int unused_${i};\n` : "";
  return `#include "common.h"\n#include "g${i % 4}.h"\n${warn}int s${i}_f(int x) { return x * ${i + 1} + G${i % 4} + COMMON + ${rev}; }\n`;
}

test(
  `${CLIENTS} concurrent clients, repeated: all correct, no errors, stats add up exactly`,
  async () => {
    const c = new CacheEnv();
    c.write("inc/common.h", "#define COMMON 5\n");
    for (let g = 0; g < 4; g++) c.write(`inc/g${g}.h`, `#define G${g} ${g * 3}\n`);
    for (let i = 0; i < SOURCES; i++) c.write(`src/s${i}.c`, sourceText(i, 0));
    fs.mkdirSync(path.join(c.work, "out"), { recursive: true });

    // Client k compiles source k % 16 into its own object (four outputs per source), and
    // every eighth client preprocesses instead.
    const cmds: Cmd[] = [];
    for (let k = 0; k < CLIENTS; k++) {
      const s = k % SOURCES;
      if (k % 8 === 7) {
        cmds.push({ argv: ["gcc", "-E", "-Iinc", `src/s${s}.c`], outputs: [], preprocessOnly: true });
      } else {
        // -DCLIENT keeps one key per client (output names are not in the key), so the
        // counts below are exact whatever order the racing clients are served in.
        cmds.push({
          argv: ["gcc", "-O1", "-Wall", `-DCLIENT=${k}`, "-Iinc", "-c", `src/s${s}.c`, "-o", `out/c${k}.o`],
          outputs: [`out/c${k}.o`],
          preprocessOnly: false,
        });
      }
    }
    const refs = new Map<number, Observed>();
    const refresh = (ks: Iterable<number>): void => {
      for (const k of ks) {
        const cmd = cmds[k] as Cmd;
        removeOutputs(c.work, cmd.outputs);
        refs.set(k, observe(bare(cmd.argv, c.work, c.env), c.work, cmd.outputs));
        removeOutputs(c.work, cmd.outputs);
      }
    };
    refresh(cmds.keys());

    let last: Status | null = null;
    const delta = (now: Status, key: "hits" | "misses" | "uncacheable" | "errors"): number => now[key] - (last?.[key] ?? 0);
    let daemonPid = 0;

    /** Runs the given commands (by index) all at once; checks each against its reference. */
    const round = async (
      name: string,
      ks: readonly number[],
      expected: { hits: number; misses: number; uncacheable: number },
    ): Promise<void> => {
      // Identical commands in one round write the same outputs: clear them once, up front.
      for (const k of new Set(ks)) removeOutputs(c.work, (cmds[k] as Cmd).outputs);
      const results = await Promise.all(ks.map((k) => c.zcAsync((cmds[k] as Cmd).argv)));
      const problems: string[] = [];
      results.forEach((r, i) => {
        const k = ks[i] as number;
        const cmd = cmds[k] as Cmd;
        const d = diffObserved(refs.get(k) as Observed, observe(r, c.work, cmd.outputs));
        if (d !== "") problems.push(`${name}, client ${i} (${cmd.argv.join(" ")}):\n${d}`);
      });
      expect(problems).toEqual([]);
      const pids = c.daemonPids();
      expect(pids.length).toBe(1);
      const st = c.status();
      if (daemonPid === 0) daemonPid = st.pid;
      expect(st.pid).toBe(daemonPid);
      const got = {
        invocations: delta(st, "hits") + delta(st, "misses") + delta(st, "uncacheable"),
        hits: delta(st, "hits"),
        misses: delta(st, "misses"),
        uncacheable: delta(st, "uncacheable"),
        errors: delta(st, "errors"),
      };
      expect({ round: name, ...got }).toEqual({ round: name, invocations: ks.length, ...expected, errors: 0 });
      last = st;
    };

    const all = [...cmds.keys()];
    const compiles = all.filter((k) => !(cmds[k] as Cmd).preprocessOnly);
    const pre = all.length - compiles.length;

    // 1. Cold start: 64 clients race to start the daemon; every compile misses.
    await round("cold start", all, { hits: 0, misses: compiles.length, uncacheable: pre });
    // 2. Everything again: every compile hits.
    await round("warm", all, { hits: compiles.length, misses: 0, uncacheable: pre });
    // 3. A header four sources share changes: their sixteen clients miss, the rest hit.
    c.write("inc/g0.h", "#define G0 1000\n");
    const g0 = compiles.filter((k) => k % 4 === 0);
    refresh(all.filter((k) => k % 4 === 0));
    await round("shared header edited", all, { hits: compiles.length - g0.length, misses: g0.length, uncacheable: pre });
    // 4. Two sources edited (same size, same second) while the others stay.
    for (const s of [1, 2]) c.write(`src/s${s}.c`, sourceText(s, 7));
    const edited = all.filter((k) => k % SOURCES === 1 || k % SOURCES === 2);
    refresh(edited);
    const editedCompiles = edited.filter((k) => !(cmds[k] as Cmd).preprocessOnly).length;
    await round("sources edited", all, { hits: compiles.length - editedCompiles, misses: editedCompiles, uncacheable: pre });
    // 5. Identical commands racing: each of 32 commands run by two clients at once (all hits,
    //    delivered to the same paths concurrently).
    const twice = [...Array(CLIENTS).keys()].map((j) => j % 32);
    const twiceCompiles = twice.filter((k) => !(cmds[k] as Cmd).preprocessOnly).length;
    await round("identical commands racing", twice, { hits: twiceCompiles, misses: 0, uncacheable: twice.length - twiceCompiles });
    // 6. And once more from the top.
    await round("warm again", all, { hits: compiles.length, misses: 0, uncacheable: pre });
  },
  300_000,
);

test("zccache stop while compiles are in flight: each is answered once, no output written twice", async () => {
  const c = new CacheEnv();
  // A compiler that takes a second and logs every real compile it does.
  const bin = path.join(c.work, "bin");
  fs.mkdirSync(bin);
  const log = path.join(c.work, "runs.log");
  const wrapper = path.join(bin, "gcc");
  fs.writeFileSync(
    wrapper,
    [
      "#!/bin/sh",
      // Only compiles are logged: not the daemon's probes of the toolchain (-v, -print-prog-name=…).
      'case " $* " in *" -v "*|*" -print-"*) exec /usr/bin/gcc "$@" ;; esac',
      `echo "$*" >> ${log}`,
      "sleep 1",
      'exec /usr/bin/gcc "$@"',
      "",
    ].join("\n"),
  );
  fs.chmodSync(wrapper, 0o755);
  const n = 4;
  for (let i = 0; i < n; i++) c.write(`f${i}.c`, `int inflight_${i}(int x) { return x + ${i}; }\n`);
  expect(c.zc(["start"]).code).toBe(0);
  const pending = [...Array(n).keys()].map((i) => c.zcAsync([wrapper, "-O1", "-c", `f${i}.c`, "-o", `f${i}.o`]));
  // Every compile is running inside the daemon now.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").length - 1 : 0) < n) {
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(c.zc(["stop"]).code).toBe(0);
  const results = await Promise.all(pending);
  for (let i = 0; i < n; i++) {
    const r = results[i] as (typeof results)[number];
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    const ref = path.join(c.work, `ref${i}.o`);
    expect(bare(["gcc", "-O1", "-c", `f${i}.c`, "-o", ref], c.work).code).toBe(0);
    expect(fs.readFileSync(path.join(c.work, `f${i}.o`)).equals(fs.readFileSync(ref))).toBe(true);
  }
  // The stopping daemon finished what it had started and answered it: no client had to
  // compile again next to it (two compilers writing one object at once).
  const runs = fs.readFileSync(log, "utf8").split("\n").filter((l) => l !== "");
  expect(runs.length).toBe(n);
});
