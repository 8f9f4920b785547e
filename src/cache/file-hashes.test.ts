// Hashes for validation: no source scans, and files of a megabyte or more kept across a
// daemon restart (the persistent memo), trusted again only while their stat is unchanged.
import { afterEach, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { sha256Hex } from "../platform/hash.ts";
import { FileHashes } from "./file-hashes.ts";
import { usePersistentMemo } from "./fingerprint-memo.ts";

const dirs: string[] = [];
afterEach(() => {
  usePersistentMemo(null);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function oldFile(dir: string, name: string, bytes: Buffer): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  const when = new Date(Date.now() - 60_000);
  fs.utimesSync(p, when, when);
  return p;
}

test("a big file's hash survives a restart; a small one's is computed again; a changed one is read again", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-filehash-"));
  dirs.push(dir);
  const kept = new Map<string, string>();
  usePersistentMemo({ get: (n) => kept.get(n) ?? null, set: (n, v) => void kept.set(n, v) });
  const bigBytes = Buffer.alloc(2 * 1024 * 1024, 7);
  const big = oldFile(dir, "lto1", bigBytes);
  const small = oldFile(dir, "x.h", Buffer.from("#define X 1\n"));
  // ctime is now: facts computed this instant are not trusted until the racy window passed.
  await Bun.sleep(2_100);
  const first = new FileHashes();
  expect(first.hash(big)).toBe(sha256Hex(bigBytes));
  expect(first.hash(small)).toBe(sha256Hex(Buffer.from("#define X 1\n")));
  expect(first.hashedFiles).toBe(2);

  const restarted = new FileHashes();
  expect(restarted.hash(big)).toBe(sha256Hex(bigBytes));
  expect(restarted.hash(small)).not.toBeNull();
  expect(restarted.hashedFiles).toBe(1); // the small one only

  // Same size and mtime, other content: the ctime tells.
  const other = Buffer.from(bigBytes);
  other[12345] = 8;
  const st = fs.statSync(big);
  fs.writeFileSync(big, other);
  fs.utimesSync(big, st.atime, st.mtime);
  const again = new FileHashes();
  expect(again.hash(big)).toBe(sha256Hex(other));
  expect(again.hashedFiles).toBe(1);
});
