import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LifecycleEvents, startReasonFrom } from "./lifecycle-events.ts";

function withDir(body: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-lifecycle-"));
  try {
    body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("each event is one JSON line: ts, event, pid, version, then its details", () => {
  withDir((dir) => {
    const file = path.join(dir, "logs", "lifecycle.jsonl");
    const events = new LifecycleEvents("9.9.9");
    events.reopen(file, { dir: undefined, file: undefined });
    events.record({ event: "start", reason: "start", owners: [42] });
    events.record({ event: "stop", by: "SIGTERM" });
    const lines = fs.readFileSync(file, "utf8").trim().split("\n");
    expect(lines.length).toBe(2);
    const first = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
    expect(Object.keys(first)).toEqual(["ts", "event", "pid", "version", "reason", "owners"]);
    expect(first).toMatchObject({ event: "start", pid: process.pid, version: "9.9.9", reason: "start", owners: [42] });
    expect(new Date(String(first.ts)).toISOString()).toBe(String(first.ts));
    expect(JSON.parse(lines[1] ?? "")).toMatchObject({ event: "stop", by: "SIGTERM" });
  });
});

test("the file is bounded: past its size it rotates to one previous generation", () => {
  withDir((dir) => {
    const file = path.join(dir, "lifecycle.jsonl");
    const events = new LifecycleEvents("1.0.0", 1000);
    events.reopen(file, { dir: undefined, file: undefined });
    for (let i = 0; i < 100; i++) events.record({ event: "idle-exit", idle_secs: i });
    expect(fs.statSync(file).size).toBeLessThanOrEqual(1000);
    expect(fs.statSync(`${file}.1`).size).toBeLessThanOrEqual(1000);
    expect(fs.existsSync(`${file}.2`)).toBe(false);
    // The newest event is in the current file.
    expect(fs.readFileSync(file, "utf8").trim().split("\n").at(-1)).toContain('"idle_secs":99');
  });
});

test("the start reason: 'start' only when zccache start said so", () => {
  expect(startReasonFrom({ ZCCACHE_INTERNAL_START_REASON: "start" })).toBe("start");
  expect(startReasonFrom({})).toBe("auto");
  expect(startReasonFrom({ ZCCACHE_INTERNAL_START_REASON: "other" })).toBe("auto");
});
