// Assertions and small file helpers shared by the end-to-end suites.
import { expect } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, type CacheEnv, removeTempDir, type RunResult, type Status, tempDir } from "./helpers.ts";

/** The change in `zccache status --json` across some commands. */
export interface Delta {
  hits: number;
  misses: number;
  uncacheable: number;
  errors: number;
  entries: number;
  bytes: number;
  reasons: Record<string, number>;
  languages: Record<string, Record<string, number>>;
}

export function diff(a: Status, b: Status): Delta {
  const reasons: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a.reasons), ...Object.keys(b.reasons)])) {
    const d = (b.reasons[k] ?? 0) - (a.reasons[k] ?? 0);
    if (d !== 0) reasons[k] = d;
  }
  const languages: Record<string, Record<string, number>> = {};
  for (const lang of new Set([...Object.keys(a.languages ?? {}), ...Object.keys(b.languages ?? {})])) {
    const la = a.languages?.[lang];
    const lb = b.languages?.[lang];
    for (const f of ["hits", "misses", "uncacheable", "errors"] as const) {
      const d = (lb?.[f] ?? 0) - (la?.[f] ?? 0);
      if (d !== 0) {
        languages[lang] ??= {};
        (languages[lang] as Record<string, number>)[f] = d;
      }
    }
  }
  return {
    hits: b.hits - a.hits,
    misses: b.misses - a.misses,
    uncacheable: b.uncacheable - a.uncacheable,
    errors: b.errors - a.errors,
    entries: b.entries - a.entries,
    bytes: b.bytes - a.bytes,
    reasons,
    languages,
  };
}

/** Hits, misses, uncacheable invocations and reasons between two statuses. */
export interface OutcomeCounts {
  hits: number;
  misses: number;
  uncacheable: number;
  reasons: Record<string, number>;
}

export function outcomeCounts(a: Status, b: Status): OutcomeCounts {
  const d = diff(a, b);
  return { hits: d.hits, misses: d.misses, uncacheable: d.uncacheable, reasons: d.reasons };
}

/** "hit", "miss:<reason>", "uncacheable:<reason>", or a description of anything else. */
export function outcomeOf(d: Delta): string {
  const total = d.hits + d.misses + d.uncacheable + d.errors;
  const reasons = Object.entries(d.reasons);
  if (total === 1 && d.hits === 1 && reasons.length === 0) return "hit";
  if (total === 1 && reasons.length === 1 && reasons[0]?.[1] === 1) {
    const kind = d.misses === 1 ? "miss" : d.uncacheable === 1 ? "uncacheable" : "error";
    return `${kind}:${reasons[0]?.[0]}`;
  }
  return JSON.stringify(d);
}

export function readOrNull(p: string): Buffer | null {
  try {
    return fs.readFileSync(p);
  } catch {
    return null;
  }
}

/** Fails with the first differing offset and a readable prefix of both sides. */
export function expectSameBytes(actual: Buffer | null, expected: Buffer | null, what: string): void {
  if (expected === null) throw new Error(`${what}: the reference run produced nothing to compare against`);
  if (actual === null) throw new Error(`${what}: zccache produced no file`);
  if (!actual.equals(expected)) {
    let i = 0;
    while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
    throw new Error(
      `${what}: bytes differ (zccache ${actual.length} B, reference ${expected.length} B, first difference at ${i})\n` +
        `zccache:   ${JSON.stringify(actual.toString("latin1").slice(0, 300))}\n` +
        `reference: ${JSON.stringify(expected.toString("latin1").slice(0, 300))}`,
    );
  }
}

/** Same exit code, stdout and stderr bytes as the reference run. */
export function expectSameRun(z: RunResult, b: RunResult, what: string): void {
  expect({ what, code: z.code }).toEqual({ what, code: b.code });
  expectSameBytes(z.stdout, b.stdout, `${what}: stdout`);
  expectSameBytes(z.stderr, b.stderr, `${what}: stderr`);
}

/**
 * The bare command with `extra` added to `env`, then the same through zccache (`viaCache`,
 * which also measures what it likes): the same output file, stdout and stderr, exit 0 both
 * times. Returns what `viaCache` measured.
 */
export function sameAsBare<T>(
  o: { dir: string; argv: readonly string[]; output: string; env: Record<string, string | undefined>; extra: Record<string, string> },
  viaCache: () => { r: RunResult; value: T },
): T {
  const out = path.join(o.dir, o.output);
  fs.rmSync(out, { force: true });
  const b = expectOk(bare(o.argv, o.dir, { ...o.env, ...o.extra }), `bare ${o.argv.join(" ")} with ${JSON.stringify(o.extra)}`);
  const bareBytes = readOrNull(out);
  fs.rmSync(out, { force: true });
  const z = viaCache();
  expect({ code: z.r.code, out: z.r.out, err: z.r.err }).toEqual({ code: 0, out: b.out, err: b.err });
  expectSameBytes(readOrNull(out), bareBytes, JSON.stringify(o.extra));
  return z.value;
}

export function expectOk(r: RunResult, what = "command"): RunResult {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\nstdout: ${r.out}\nstderr: ${r.err}`);
  return r;
}

export function rm(...paths: string[]): void {
  for (const p of paths) fs.rmSync(p, { force: true });
}

export function rmAll(dir: string, rels: readonly string[]): void {
  for (const r of rels) fs.rmSync(path.join(dir, r), { force: true });
}

/** Writes `content` at dir/rel, creating directories; returns the path. */
export function put(dir: string, rel: string, content: string): string {
  const p = path.join(dir, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  return p;
}

/** Polls `pred` until it holds or `timeoutMs` passes; returns its last value. */
export async function waitUntil(pred: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pred()) return true;
    await Bun.sleep(25);
  }
  return pred();
}

/** The object a bare `gcc -c rel -o rel.o` produces for a copy of srcDir/rel in a fresh dir. */
export function bareObject(srcDir: string, rel: string): Buffer {
  const bareDir = tempDir("zc-bare-");
  try {
    fs.copyFileSync(path.join(srcDir, rel), path.join(bareDir, rel));
    const obj = rel.replace(/\.c$/, ".o");
    const r = bare(["gcc", "-c", rel, "-o", obj], bareDir);
    if (r.code !== 0) throw new Error(`bare gcc failed: ${r.err}`);
    return fs.readFileSync(path.join(bareDir, obj));
  } finally {
    removeTempDir(bareDir);
  }
}

/** `zccache gcc -c rel -o rel.o` in the env's work dir. */
export function compileIn(c: CacheEnv, rel: string, env: Record<string, string | undefined> = {}): RunResult {
  return c.zc(["gcc", "-c", rel, "-o", rel.replace(/\.c$/, ".o")], { env });
}
