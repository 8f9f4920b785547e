// The local tier's quarantine: kept in the index across restarts, per key and digest, lifted
// only by a local put of the same record, and kept by clear (a remote may still hold the entry).
import { afterEach, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalStore } from "./local-store.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function root(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "zc-quarantine-"));
  dirs.push(d);
  return d;
}

async function putOne(store: LocalStore, dir: string, key: string, bytes: string, compileMs: number): Promise<string> {
  const out = path.join(dir, "out.o");
  fs.writeFileSync(out, bytes);
  const r = await store.put(key, { deps: [], absent: [], exitCode: 0, stdout: "", stderr: "", language: "c", compileMs }, [{ role: "object", path: out }]);
  if (!r.ok) throw new Error(r.error.detail);
  return r.value.digest;
}

test("a quarantined entry stays quarantined across a reopen; other keys and digests are not", async () => {
  const dir = root();
  const a = new LocalStore(path.join(dir, "cache"));
  const bad = await putOne(a, dir, "k1", "evil", 10);
  expect(a.quarantine.has("k1", bad)).toBe(false);
  a.quarantine.add("k1", [bad], "object differs at byte 3");
  expect([a.quarantine.has("k1", bad), a.quarantine.has("k2", bad), a.quarantine.has("k1", "other"), a.quarantine.count()]).toEqual([true, false, false, 1]);
  a.close();
  const b = new LocalStore(path.join(dir, "cache"));
  expect([b.quarantine.has("k1", bad), b.quarantine.count()]).toEqual([true, 1]);
  // A new entry under the key is not quarantined.
  const fresh = await putOne(b, dir, "k1", "good", 11);
  expect([b.quarantine.has("k1", fresh), b.quarantine.has("k1", bad)]).toEqual([false, true]);
  b.close();
});

test("a put of exactly the quarantined record lifts it; clear keeps the quarantine", async () => {
  const dir = root();
  const s = new LocalStore(path.join(dir, "cache"));
  const digest = await putOne(s, dir, "k", "same", 5);
  s.quarantine.add("k", [digest, "f".repeat(64)], "x");
  expect(await putOne(s, dir, "k", "same", 5)).toBe(digest);
  expect([s.quarantine.has("k", digest), s.quarantine.has("k", "f".repeat(64))]).toEqual([false, true]);
  s.clear();
  expect(s.quarantine.count()).toBe(1);
  s.close();
  const again = new LocalStore(path.join(dir, "cache"));
  expect(again.quarantine.has("k", "f".repeat(64))).toBe(true);
  again.close();
});
