import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hasExited, isOurDaemon, processStartMs, seeProcess, waitForExit } from "./daemon-process.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-daemon-process-"));
const ROOT = path.join(dir, "cache");
// A stand-in whose command line reads like ours: `sh daemon --cache-dir <root>`, run in `dir`
// where "daemon" is a script that just waits.
fs.writeFileSync(path.join(dir, "daemon"), "sleep 60\nexit 0\n");
const started: number[] = [];

afterAll(() => {
  // Children before the parents that keep them from being reaped (and their PIDs from reuse).
  for (const pid of started.reverse()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

function stateOf(pid: number): string | undefined {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
}

async function until(pred: () => boolean): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (!pred() && Date.now() < deadline) await Bun.sleep(10);
  return pred();
}

/**
 * Starts the stand-in as the child of a `sleep` that never reaps it (sh forks it, then execs
 * sleep): once it dies it stays a zombie. Returns [stand-in pid, its never-reaping parent].
 */
async function standInWithNonReapingParent(): Promise<[number, number]> {
  const p = Bun.spawn(["sh", "-c", `(cd '${dir}' && exec sh daemon --cache-dir '${ROOT}') & echo $!; exec sleep 60`], {
    stdout: "pipe",
    stderr: "ignore",
  });
  started.push(p.pid);
  const reader = p.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const pid = Number(text.trim());
  started.push(pid);
  // Wait until the subshell has exec'd the stand-in.
  expect(await until(() => (fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\u0000")[1] ?? "") === "daemon")).toBe(true);
  return [pid, p.pid];
}

describe("daemon liveness", () => {
  test("a live process with our daemon's command line, uid and root is ours; another root is not", async () => {
    const [pid] = await standInWithNonReapingParent();
    expect(isOurDaemon(pid, ROOT)).toBe(true);
    expect(isOurDaemon(pid, `${ROOT}-other`)).toBe(false);
    const startedMs = processStartMs(pid);
    expect(startedMs !== null && startedMs <= Date.now() + 50).toBe(true);
  });

  test("a zombie counts as exited although kill(pid, 0) still succeeds", async () => {
    const [pid] = await standInWithNonReapingParent();
    const seen = seeProcess(pid);
    if (seen === null) throw new Error("the stand-in is not running");
    expect(hasExited(seen)).toBe(false);
    expect(await waitForExit(pid, 100)).toBe(false);
    process.kill(pid, "SIGKILL");
    expect(await until(() => stateOf(pid) === "Z")).toBe(true);
    // What the old predicate looked at: the zombie still "exists".
    expect(() => process.kill(pid, 0)).not.toThrow();
    expect(hasExited(seen)).toBe(true);
    expect(seeProcess(pid)).toBeNull();
    expect(await waitForExit(pid, 10_000)).toBe(true);
    expect(isOurDaemon(pid, ROOT)).toBe(false);
  });

  test("a PID now running another process (a different start time) counts as exited", async () => {
    const [pid] = await standInWithNonReapingParent();
    const seen = seeProcess(pid);
    if (seen === null) throw new Error("the stand-in is not running");
    expect(hasExited({ pid, startTicks: String(Number(seen.startTicks) - 1) })).toBe(true);
    expect(hasExited(seen)).toBe(false);
  });

  test("a PID that is no longer running has exited, and some other program of ours is not our daemon", async () => {
    const p = Bun.spawn(["sleep", "60"], { stdio: ["ignore", "ignore", "ignore"] });
    started.push(p.pid);
    expect(isOurDaemon(p.pid, ROOT)).toBe(false);
    p.kill("SIGKILL");
    await p.exited;
    expect(seeProcess(p.pid)).toBeNull();
    expect(await waitForExit(p.pid, 10_000)).toBe(true);
  });
});
