import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { MissRecord } from "../history.ts";
import { Sessions } from "../sessions.ts";
import { buildReport } from "./report.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-report-handler-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const T0 = Date.parse("2026-11-30T10:00:00Z");

function line(atMs: number, session: string | null, outcome: string, output: string | null, reason: string | null = null): string {
  return JSON.stringify({
    ts: new Date(atMs).toISOString(),
    session,
    outcome,
    reason,
    language: "c",
    compiler: "gcc",
    args: ["-c", "a.c"],
    cwd: "/w",
    output,
    exit_code: 0,
    latency_ms: 40,
    saved_ms: outcome === "hit" ? 30 : 0,
    hints: [],
    env: {},
  });
}

function journal(name: string, lines: string[], rotated: string[] = []): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${lines.join("\n")}\n`);
  if (rotated.length > 0) fs.writeFileSync(`${file}.1`, `${rotated.join("\n")}\n`);
  return file;
}

const header = (atMs: number, output: string, h: string): MissRecord => ({
  id: atMs,
  atMs,
  output,
  basis: "diff",
  causes: [{ kind: "header", detail: `${h} changed`, path: `/w/${h}`, change: "changed" }],
  moreFiles: 0,
});

describe("buildReport", () => {
  const file = journal(
    "j1",
    [
      line(T0 + 1_000, "s-a", "miss", "/w/a.o", "inputs-changed"),
      line(T0 + 2_000, "s-a", "miss", "/w/b.o", "inputs-changed"),
      line(T0 + 3_000, null, "hit", "/w/c.o"),
      '{"ts": "torn',
      line(T0 + 4_000, "s-b", "hit", "/w/a.o"),
      line(T0 + 5_000, "s-a", "miss", "/w/c.o", "new-source"),
      line(T0 + 6_000, null, "uncacheable", null, "preprocess-only"),
    ],
    [line(T0, "s-a", "hit", "/w/z.o")],
  );
  const history = {
    missesBetween: (from: number, to: number): MissRecord[] =>
      [header(T0 + 1_000, "/w/a.o", "inc/x.h"), header(T0 + 2_000, "/w/b.o", "inc/x.h")].filter((r) => r.atMs >= from && r.atMs <= to),
  };
  const state = { journal: { file }, history, sessions: new Sessions() };

  test("a session: its lines from both generations, rolled up, each miss with its group", () => {
    const r = buildReport({ kind: "session", id: "s-a" }, "/w", state);
    expect(r).not.toBeNull();
    if (r === null) return;
    expect(r.scope).toEqual({ kind: "session", id: "s-a" });
    expect(r.invocations.map((i) => i.output)).toEqual(["/w/z.o", "/w/a.o", "/w/b.o", "/w/c.o"]);
    expect(r.rollup.miss_causes.map((g) => [g.count, g.cause])).toEqual([
      [2, "header inc/x.h changed"],
      [1, "cause not recorded"],
    ]);
    expect(r.invocations.map((i) => i.cause)).toEqual([null, 0, 0, 1]);
    const first = r.invocations[1];
    expect(first?.start_ms).toBe(T0 + 1_000 - 40);
    expect(first?.duration_ms).toBe(40);
    expect(first?.command).toEqual(["gcc", "-c", "a.c"]);
    expect(r.omitted).toBe(0);
    expect(r.cwd).toBe("/w");
  });

  test("latest: the session of the newest line that has one", () => {
    expect(buildReport({ kind: "latest" }, "/w", state)?.scope).toEqual({ kind: "session", id: "s-a" });
    const only = journal("j2", [line(T0, "s-old", "hit", "/w/a.o"), line(T0 + 1, "s-new", "hit", "/w/a.o"), line(T0 + 2, null, "hit", "/w/a.o")]);
    expect(buildReport({ kind: "latest" }, "/w", { ...state, journal: { file: only } })?.scope).toEqual({ kind: "session", id: "s-new" });
    const none = journal("j3", [line(T0, null, "hit", "/w/a.o")]);
    expect(buildReport({ kind: "latest" }, "/w", { ...state, journal: { file: none } })).toBeNull();
  });

  test("minutes: every line of the window, whatever its session", () => {
    const r = buildReport({ kind: "minutes", minutes: 1 }, "/w", state, T0 + 60_500);
    expect(r?.scope).toEqual({ kind: "minutes", minutes: 1 });
    expect(r?.rollup.session_id).toBe("last 1 minute");
    expect(r?.invocations.map((i) => i.outcome)).toEqual(["miss", "miss", "hit", "hit", "miss", "uncacheable"]);
    expect(buildReport({ kind: "minutes", minutes: 1 }, "/w", state, T0 + 3_600_000)?.invocations).toEqual([]);
  });

  test("an unknown session is null; one this daemon knows but never journalled is empty", () => {
    expect(buildReport({ kind: "session", id: "s-nope" }, "/w", state)).toBeNull();
    const s = state.sessions.start(null);
    expect(buildReport({ kind: "session", id: s.id }, "/w", state)?.invocations).toEqual([]);
    expect(buildReport({ kind: "session", id: "s-a" }, "/w", { ...state, journal: { file: null } })).toBeNull();
  });
});
