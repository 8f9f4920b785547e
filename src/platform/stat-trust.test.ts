import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type StatSnapshot, snapshotOf } from "./fsx.ts";
import { RACY_WINDOW_NS, stillTrusted } from "./stat-trust.ts";

const SEC = 1_000_000_000n;
const old: StatSnapshot = { size: 10n, mtimeNs: 100n * SEC, ctimeNs: 101n * SEC, ino: 7n };

test("an unchanged file hashed well after its last change is trusted", () => {
  expect(stillTrusted(old, 200n * SEC, { ...old })).toBe(true);
  // Just past the window, measured from the newer of mtime and ctime.
  expect(stillTrusted(old, old.ctimeNs + RACY_WINDOW_NS + 1n, { ...old })).toBe(true);
});

test("a fact computed within the racy window of the file's newest change is not trusted", () => {
  expect(stillTrusted(old, old.ctimeNs + RACY_WINDOW_NS, { ...old })).toBe(false);
  expect(stillTrusted(old, old.ctimeNs + 1n, { ...old })).toBe(false);
  // Old enough for mtime but not for ctime (a chmod or rename right before the hash).
  expect(stillTrusted(old, old.mtimeNs + RACY_WINDOW_NS + 1n, { ...old })).toBe(false);
  const mtimeNewer: StatSnapshot = { ...old, mtimeNs: 150n * SEC };
  expect(stillTrusted(mtimeNewer, 151n * SEC, { ...mtimeNewer })).toBe(false);
  // A clock that went back: the fact predates the stamp it claims to cover.
  expect(stillTrusted(old, 50n * SEC, { ...old })).toBe(false);
});

test("any change of size, mtime, ctime or inode is not trusted, however old the fact", () => {
  for (const changed of [
    { ...old, size: 11n },
    { ...old, mtimeNs: old.mtimeNs + 1n },
    { ...old, ctimeNs: old.ctimeNs + 1n },
    { ...old, ino: 8n },
  ]) {
    expect(stillTrusted(old, 1_000n * SEC, changed)).toBe(false);
  }
});

test("takes node's bigint stats of a real file as the current stat", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-stat-trust-"));
  try {
    const file = path.join(dir, "a.h");
    fs.writeFileSync(file, "int a;\n");
    fs.utimesSync(file, new Date(1_600_000_000_000), new Date(1_600_000_000_000));
    const st = fs.statSync(file, { bigint: true });
    const snap = snapshotOf(st);
    const fresh = (st.ctimeNs > st.mtimeNs ? st.ctimeNs : st.mtimeNs) + 1n;
    expect(stillTrusted(snap, fresh, st)).toBe(false); // ctime is now: racy-new
    expect(stillTrusted(snap, fresh + RACY_WINDOW_NS, st)).toBe(true);
    fs.writeFileSync(file, "int b;\n"); // same size, new content
    expect(stillTrusted(snap, fresh + RACY_WINDOW_NS, fs.statSync(file, { bigint: true }))).toBe(false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
