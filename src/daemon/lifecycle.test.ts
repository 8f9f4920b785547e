import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Endpoint } from "../protocol/endpoint.ts";
import { acquireStartLock, releaseStartLock } from "./lifecycle.ts";

function endpointIn(dir: string): Endpoint {
  return { cacheRoot: path.join(dir, "cache"), runtimeDir: dir, socketPath: path.join(dir, "d.sock"), lockPath: path.join(dir, "d.lock") };
}

test("a starter that wins the lock on a file the departing daemon unlinked takes the new file instead", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-lock-"));
  try {
    const ep = endpointIn(dir);
    const first = await acquireStartLock(ep);
    if (first.kind !== "acquired") throw new Error(first.kind);
    // The second starter opens the same file and waits (no daemon answers on the socket).
    const second = acquireStartLock(ep);
    await Bun.sleep(50);
    releaseStartLock(ep, first.fd);
    const won = await second;
    if (won.kind !== "acquired") throw new Error(won.kind);
    try {
      // It holds the file that is at the path now, so a third starter cannot take it too.
      const held = fs.fstatSync(won.fd);
      const now = fs.statSync(ep.lockPath);
      expect([now.dev, now.ino]).toEqual([held.dev, held.ino]);
      expect(fs.readFileSync(ep.lockPath, "utf8")).toBe(`${process.pid}\n`);
      const third = acquireStartLock(ep);
      expect(await Promise.race([third, Bun.sleep(300).then(() => "still waiting" as const)])).toBe("still waiting");
      releaseStartLock(ep, won.fd);
      const next = await third;
      if (next.kind !== "acquired") throw new Error(next.kind);
      expect(fs.fstatSync(next.fd).ino).toBe(fs.statSync(ep.lockPath).ino);
      releaseStartLock(ep, next.fd);
    } catch (e) {
      fs.closeSync(won.fd);
      throw e;
    }
    expect(fs.existsSync(ep.lockPath)).toBe(false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
