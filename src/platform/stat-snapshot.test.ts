import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { snapshotOf } from "./fsx.ts";
import { directorySnapshot, regularFileSnapshot, regularFileStamp, snapshotOfStamp } from "./stat-snapshot.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-statx-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("agrees with node's bigint stat on files, links to files, and refuses everything else", () => {
  const file = path.join(dir, "f.h");
  fs.writeFileSync(file, "int x;\n");
  fs.utimesSync(file, new Date(1_600_000_000_123), new Date(1_600_000_000_456));
  fs.symlinkSync(file, path.join(dir, "link.h"));
  fs.symlinkSync(path.join(dir, "nowhere"), path.join(dir, "dangling.h"));
  fs.mkdirSync(path.join(dir, "d.h"));
  const expected = snapshotOf(fs.statSync(file, { bigint: true }));
  expect(regularFileSnapshot(file)).toEqual(expected);
  expect(regularFileSnapshot(path.join(dir, "link.h"))).toEqual(expected);
  for (const other of ["dangling.h", "d.h", "missing.h", "f.h/below.h"]) expect(regularFileSnapshot(path.join(dir, other))).toBeNull();
  // Non-ASCII names and a NUL byte (which no file name can hold).
  const wide = path.join(dir, "é✓.h");
  fs.writeFileSync(wide, "");
  expect(regularFileSnapshot(wide)).toEqual(snapshotOf(fs.statSync(wide, { bigint: true })));
  expect(regularFileSnapshot(`${file}\0x`)).toBeNull();
});

test("directories: a snapshot for a directory or a link to one, null for anything else", () => {
  const d = path.join(dir, "inc");
  fs.mkdirSync(d);
  fs.symlinkSync(d, path.join(dir, "inc-link"));
  fs.writeFileSync(path.join(dir, "plain"), "");
  const expected = snapshotOf(fs.statSync(d, { bigint: true }));
  expect(directorySnapshot(d)).toEqual(expected);
  expect(directorySnapshot(path.join(dir, "inc-link"))).toEqual(expected);
  for (const other of ["plain", "absent", "plain/below"]) expect(directorySnapshot(path.join(dir, other))).toBeNull();
});

test("a file's stamp stands for exactly its snapshot, for the same files", () => {
  const file = path.join(dir, "stamp.h");
  fs.writeFileSync(file, "int y;\n");
  // Nanoseconds that no millisecond clock would round to, and a time before 1970.
  for (const at of [new Date(1_600_000_000_123), new Date(-86_400_123)]) {
    fs.utimesSync(file, at, at);
    const stamp = regularFileStamp(file);
    expect(stamp).not.toBeNull();
    if (stamp === null) return;
    expect(snapshotOfStamp(stamp)).toEqual(snapshotOf(fs.statSync(file, { bigint: true })));
    expect(stamp.mtimeNsec).toBeGreaterThanOrEqual(0);
  }
  fs.symlinkSync(file, path.join(dir, "stamp-link.h"));
  expect(regularFileStamp(path.join(dir, "stamp-link.h"))).toEqual(regularFileStamp(file));
  for (const other of ["dangling.h", "d.h", "missing.h", "f.h/below.h", "inc"]) expect(regularFileStamp(path.join(dir, other))).toBeNull();
  expect(regularFileStamp(`${file}\0x`)).toBeNull();
});
