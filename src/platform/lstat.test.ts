import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { lstatPath } from "./lstat.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-lstat-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("lstatPath", () => {
  test("agrees with node's lstat on a dir, a file, a symlink and a dangling symlink, never following them", () => {
    fs.mkdirSync(path.join(dir, "d"), { mode: 0o750 });
    fs.chmodSync(path.join(dir, "d"), 0o750);
    fs.writeFileSync(path.join(dir, "f"), "x");
    fs.symlinkSync(path.join(dir, "d"), path.join(dir, "l"));
    fs.symlinkSync(path.join(dir, "nowhere"), path.join(dir, "dangling"));
    for (const [name, type] of [["d", "dir"], ["f", "other"], ["l", "symlink"], ["dangling", "symlink"]] as const) {
      const p = path.join(dir, name);
      const ref = fs.lstatSync(p);
      expect(lstatPath(p)).toEqual({ kind: "found", type, uid: ref.uid, mode: ref.mode & 0o7777 });
    }
  });

  test("an absent path, and a path through a file, are told apart", () => {
    expect(lstatPath(path.join(dir, "absent"))).toEqual({ kind: "absent" });
    fs.writeFileSync(path.join(dir, "plain"), "x");
    expect(lstatPath(path.join(dir, "plain", "below")).kind).toBe("error");
  });
});
