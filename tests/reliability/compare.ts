// zccache against the bare compiler, for the hardening regression suites.
import { expect } from "bun:test";
import * as fs from "node:fs";
import { bare, type CacheEnv, run, ZCCACHE } from "../helpers.ts";
import { diffObserved, observe, removeOutputs } from "./lib.ts";

/** zccache vs bare for the same command in the same cwd; "" when identical. */
export function compareOnce(c: CacheEnv, argv: string[], outputs: string[], env: Record<string, string | undefined> = {}): string {
  const e = { ...c.env, ...env };
  removeOutputs(c.work, outputs);
  const b = observe(bare(argv, c.work, e), c.work, outputs);
  removeOutputs(c.work, outputs);
  const z = observe(run([ZCCACHE, ...argv], { cwd: c.work, env: e }), c.work, outputs);
  const d = diffObserved(b, z);
  return d === "" ? "" : `${argv.join(" ")}\n${d}`;
}

/** Two compiles through zccache; the second must be a hit. */
export function prime(c: CacheEnv, argv: string[], env: Record<string, string | undefined> = {}): void {
  const before = c.status().hits;
  for (let i = 0; i < 2; i++) {
    const r = c.zc(argv, { env });
    if (r.code !== 0) throw new Error(`priming compile failed: ${r.err}`);
  }
  expect(c.status().hits).toBe(before + 1);
}

/** Both compiles run the compiler and are counted with `reason`. */
export function primeUncacheable(c: CacheEnv, argv: string[], reason = "too-hard"): void {
  const before = c.status();
  for (let i = 0; i < 2; i++) {
    const r = c.zc(argv);
    if (r.code !== 0) throw new Error(`priming compile failed: ${r.err}`);
  }
  const after = c.status();
  expect(after.hits).toBe(before.hits);
  expect((after.reasons[reason] ?? 0) - (before.reasons[reason] ?? 0)).toBe(2);
}

/** Moves a file's times out of the racy window, so a stale hit cannot hide behind a re-hash. */
export function backdate(...files: string[]): void {
  const old = new Date(Date.now() - 10_000);
  for (const f of files) fs.utimesSync(f, old, old);
}

