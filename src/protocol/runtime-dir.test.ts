import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chooseRuntimeDir, ensurePrivateRuntimeDir, MAX_SOCKET_PATH_BYTES } from "./runtime-dir.ts";

const UID = process.getuid?.() ?? 0;
const base = fs.mkdtempSync(path.join(os.tmpdir(), "zc-rtdir-"));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

function fresh(name: string): string {
  const d = path.join(base, name);
  fs.mkdirSync(d);
  return d;
}

function modeOf(p: string): number {
  return fs.lstatSync(p).mode & 0o7777;
}

describe("chooseRuntimeDir", () => {
  test("a private dir of ours, or an absent one, is used as configured", () => {
    const root = fresh("root1");
    const rt = fresh("private");
    fs.chmodSync(rt, 0o700);
    expect(chooseRuntimeDir({ ZCCACHE_RUNTIME_DIR: rt }, root, UID)).toEqual({ dir: rt, refused: [], usable: true });
    const absent = path.join(base, "not-yet");
    expect(chooseRuntimeDir({ ZCCACHE_RUNTIME_DIR: absent }, root, UID).dir).toBe(absent);
    expect(fs.existsSync(absent)).toBe(false);
  });

  test("a symlink, a dir open to the group, and a foreign dir are passed over, untouched", () => {
    const root = fresh("root2");
    const target = fresh("target");
    fs.chmodSync(target, 0o700);
    const link = path.join(base, "link");
    fs.symlinkSync(target, link);
    const loose = fresh("loose");
    fs.chmodSync(loose, 0o770);
    const foreign = fresh("foreign");
    fs.chmodSync(foreign, 0o700);
    if (UID === 0) fs.chownSync(foreign, 65534, 65534);
    const cases: [string, RegExp][] = [
      [link, /symbolic link/],
      [loose, /mode 770/],
    ];
    if (UID === 0) cases.push([foreign, /belongs to uid 65534/]);
    for (const [dir, why] of cases) {
      const c = chooseRuntimeDir({ ZCCACHE_RUNTIME_DIR: dir }, root, UID);
      expect(c.dir).toBe(path.join(root, "run"));
      expect(c.usable).toBe(true);
      expect(c.refused[0]?.dir).toBe(dir);
      expect(c.refused[0]?.why).toMatch(why);
    }
    expect(modeOf(target)).toBe(0o700);
    expect(modeOf(loose)).toBe(0o770);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
  });

  test("a private XDG_RUNTIME_DIR comes before the cache root; an open one is skipped", () => {
    const root = fresh("root3");
    const xdg = fresh("xdg");
    fs.chmodSync(xdg, 0o700);
    const loose = fresh("loose3");
    fs.chmodSync(loose, 0o777);
    expect(chooseRuntimeDir({ ZCCACHE_RUNTIME_DIR: loose, XDG_RUNTIME_DIR: xdg }, root, UID).dir).toBe(`${xdg}/zccache`);
    fs.chmodSync(xdg, 0o755);
    expect(chooseRuntimeDir({ ZCCACHE_RUNTIME_DIR: loose, XDG_RUNTIME_DIR: xdg }, root, UID).dir).toBe(`${root}/run`);
  });

  test("a dir whose socket path would not fit sun_path is passed over; nothing usable says so", () => {
    const long = path.join(base, "x".repeat(MAX_SOCKET_PATH_BYTES));
    const root = path.join(base, "y".repeat(MAX_SOCKET_PATH_BYTES));
    const c = chooseRuntimeDir({ ZCCACHE_RUNTIME_DIR: long }, root, UID);
    expect(c.usable).toBe(false);
    expect(c.refused.map((r) => r.why)).toEqual(["a socket path under it would be too long", "a socket path under it would be too long"]);
  });
});

describe("ensurePrivateRuntimeDir", () => {
  test("creates an absent dir 0700 (parents too) and accepts it", () => {
    const d = path.join(base, "made", "deeper", "rt");
    expect(ensurePrivateRuntimeDir(d, UID, fs).kind).toBe("private");
    expect(modeOf(d)).toBe(0o700);
  });

  test("refuses a symlink to a dir of ours and a loose dir, changing neither", () => {
    const target = fresh("t2");
    fs.chmodSync(target, 0o755);
    fs.writeFileSync(path.join(target, "keep"), "x");
    const link = path.join(base, "l2");
    fs.symlinkSync(target, link);
    expect(ensurePrivateRuntimeDir(link, UID, fs).kind).toBe("refused");
    expect(modeOf(target)).toBe(0o755);
    expect(fs.readdirSync(target)).toEqual(["keep"]);
    const loose = fresh("l3");
    fs.chmodSync(loose, 0o711);
    expect(ensurePrivateRuntimeDir(loose, UID, fs).kind).toBe("refused");
    expect(modeOf(loose)).toBe(0o711);
  });
});
