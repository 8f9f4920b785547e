import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type StatSnapshot, snapshotOf } from "./fsx.ts";
import { RACY_WINDOW_NS, stampStillTrusted, stillTrusted } from "./stat-trust.ts";
import type { StatStamp } from "./stat-snapshot.ts";

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

test("stamps follow the same rule as snapshots, to the nanosecond", () => {
  // mtime 100.25 s, ctime 101.5 s: the window ends at 103.5 s.
  const stamp: StatStamp = { sizeLo: 10, sizeHi: 0, inoLo: 7, inoHi: 1, mtimeSec: 100, mtimeNsec: 250_000_000, ctimeSec: 101, ctimeNsec: 500_000_000 };
  const snap: StatSnapshot = { size: 10n, mtimeNs: 100_250_000_000n, ctimeNs: 101_500_000_000n, ino: (1n << 32n) | 7n };
  for (const atMs of [50_000, 101_500, 103_499, 103_500, 103_501, 104_000, 105_000, 200_000]) {
    expect(stampStillTrusted(stamp, atMs, { ...stamp })).toBe(stillTrusted(snap, BigInt(atMs) * 1_000_000n, { ...snap }));
  }
  expect(stampStillTrusted(stamp, 103_500, { ...stamp })).toBe(false);
  expect(stampStillTrusted(stamp, 103_501, { ...stamp })).toBe(true);
  // mtime newer than ctime within the same second decides too.
  const mNewer: StatStamp = { ...stamp, mtimeSec: 101, mtimeNsec: 900_000_000 };
  expect(stampStillTrusted(mNewer, 103_600, { ...mNewer })).toBe(false);
  expect(stampStillTrusted(mNewer, 103_901, { ...mNewer })).toBe(true);
  for (const field of Object.keys(stamp) as (keyof StatStamp)[]) {
    expect(stampStillTrusted(stamp, 1_000_000, { ...stamp, [field]: stamp[field] + 1 })).toBe(false);
  }
});
