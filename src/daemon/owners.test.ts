import { expect, test } from "bun:test";
import { Owners } from "./owners.ts";

test("no owners: never all exited (a shared daemon lives by its idle timeout alone)", () => {
  const o = new Owners();
  expect(o.prune()).toEqual([]);
  expect(o.allExited()).toBe(false);
});

test("a PID that is not running is refused, and nothing of the request is added", async () => {
  const child = Bun.spawn(["true"]);
  await child.exited;
  const o = new Owners();
  const r = o.add([process.pid, child.pid]);
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.error).toBe(`owner PID ${child.pid} is not a running process`);
  expect(o.pids()).toEqual([]);
});

test("owners are pruned as they exit; all exited once the last one has", async () => {
  const a = Bun.spawn(["sleep", "300"]);
  const b = Bun.spawn(["sleep", "300"]);
  try {
    const o = new Owners();
    expect(o.add([a.pid])).toEqual({ ok: true, value: [a.pid] });
    expect(o.add([a.pid, b.pid])).toEqual({ ok: true, value: [b.pid] });
    expect(o.pids()).toEqual([a.pid, b.pid]);
    a.kill("SIGKILL");
    await a.exited;
    expect(o.prune()).toEqual([a.pid]);
    expect(o.allExited()).toBe(false);
    b.kill("SIGKILL");
    await b.exited;
    expect(o.prune()).toEqual([b.pid]);
    expect(o.allExited()).toBe(true);
  } finally {
    a.kill("SIGKILL");
    b.kill("SIGKILL");
  }
});
