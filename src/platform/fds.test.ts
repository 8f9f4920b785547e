import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { callerDescriptors } from "./fds.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-fds-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function socketFds(): Set<number> {
  const out = new Set<number>();
  for (const n of fs.readdirSync("/proc/self/fd")) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${n}`).startsWith("socket:")) out.add(Number(n));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

describe("callerDescriptors", () => {
  test("passes on plain descriptors, never the runtime's anonymous inodes", () => {
    const fd = fs.openSync(path.join(dir, "f"), "w");
    try {
      const fds = callerDescriptors(4096) ?? [];
      expect(fds).toContain(fd);
      for (const n of fds) expect(fs.readlinkSync(`/proc/self/fd/${n}`).startsWith("anon_inode:")).toBe(false);
      expect(fds.every((n) => n > 2)).toBe(true);
      expect(callerDescriptors(fd - 1) ?? []).not.toContain(fd);
    } finally {
      fs.closeSync(fd);
    }
  });

  test("leaves out a connection to a daemon socket, and only that", async () => {
    const sock = path.join(dir, `${"0123456789abcdef0123"}.sock`);
    const before = socketFds();
    let accepted = false;
    const server = Bun.listen({ unix: sock, socket: { open: () => void (accepted = true), data: () => {} } });
    const client = await Bun.connect({ unix: sock, socket: { data: () => {} } });
    try {
      for (let i = 0; i < 100 && !accepted; i++) await Bun.sleep(10);
      const fresh = [...socketFds()].filter((n) => !before.has(n));
      // The listener, the accepted end, and our end.
      expect(fresh.length).toBe(3);
      const passed = (callerDescriptors(4096) ?? []).filter((n) => fresh.includes(n));
      expect(passed.length).toBe(2);
    } finally {
      client.end();
      server.stop(true);
    }
  });
});
