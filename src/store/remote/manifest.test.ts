import { expect, test } from "bun:test";
import { sha256Hex } from "../../platform/hash.ts";
import { sealRecord } from "../local/local-store.ts";
import type { EntryRecord, StoredEntry } from "../store.ts";
import { decodeManifest, encodeManifest, MAX_REMOTE_ENTRIES } from "./manifest.ts";

const KEY = "c".repeat(64);

function entry(stdout: string): StoredEntry {
  const record: EntryRecord = {
    deps: [{ path: "\u0000base:src/a.h", hash: sha256Hex("h") }],
    absent: [],
    outputs: [{ role: "object", path: "/t/a.o", hash: sha256Hex(stdout), size: stdout.length }],
    exitCode: 0,
    stdout: Buffer.from(stdout).toString("base64"),
    stderr: "",
    language: "c",
  };
  return { ...record, digest: sealRecord(JSON.stringify(record)).slice(0, 64) };
}

test("entries round-trip newest first, capped, without duplicates", () => {
  const older = Array.from({ length: MAX_REMOTE_ENTRIES + 2 }, (_, i) => entry(`old ${i}`));
  const fresh = entry("new");
  const wireOf = (list: StoredEntry[]) => decodeManifest(encodeManifestOf(list), KEY, "").wire;
  const bytes = encodeManifest(KEY, fresh, wireOf([older[0] as StoredEntry, fresh, ...older.slice(1)]), "");
  const d = decodeManifest(bytes, KEY, "");
  expect(d.rejected).toBe(0);
  expect(d.entries.map((e) => e.digest)).toEqual([fresh, ...older].slice(0, MAX_REMOTE_ENTRIES).map((e) => e.digest));
  expect(d.entries[0]).toEqual(fresh);
});

test("with a secret: signed entries are read, unsigned, wrongly signed or moved ones are not", () => {
  const e = entry("x");
  const signed = encodeManifest(KEY, e, [], "team-secret");
  expect(decodeManifest(signed, KEY, "team-secret").entries).toEqual([e]);
  // A different secret, no secret at the writer, or the same manifest stored under another key.
  expect(decodeManifest(signed, KEY, "other")).toMatchObject({ entries: [], rejected: 1 });
  expect(decodeManifest(encodeManifest(KEY, e, [], ""), KEY, "team-secret")).toMatchObject({ entries: [], rejected: 1 });
  expect(decodeManifest(signed, "d".repeat(64), "team-secret")).toMatchObject({ entries: [], rejected: 1 });
  // Without a secret the reader takes signed manifests too (the signature is extra).
  expect(decodeManifest(signed, KEY, "").entries).toEqual([e]);
});

test("a record changed on the server fails its digest; garbage is rejected, not thrown", () => {
  const e = entry("y");
  const text = Buffer.from(encodeManifest(KEY, e, [], "")).toString("utf8");
  const tampered = text.replace(Buffer.from("y").toString("base64"), Buffer.from("z").toString("base64"));
  expect(tampered).not.toBe(text);
  expect(decodeManifest(Buffer.from(tampered), KEY, "")).toEqual({ entries: [], rejected: 1, wire: [] });
  for (const junk of ["", "{", "null", "[]", '{"format":"zccache-remote-manifest-v1","entries":[1,{"record":5}]}']) {
    const d = decodeManifest(Buffer.from(junk), KEY, "");
    expect(d.entries).toEqual([]);
    expect(d.rejected).toBeGreaterThan(0);
  }
});

/** A manifest holding `list` (newest first), unsigned. */
function encodeManifestOf(list: StoredEntry[]): Uint8Array {
  let wire: ReturnType<typeof decodeManifest>["wire"] = [];
  for (const e of [...list].reverse()) wire = decodeManifest(encodeManifest(KEY, e, wire, ""), KEY, "").wire;
  return encodeManifest(KEY, list[0] as StoredEntry, wire, "");
}

test("a writer without the secret (or with another) keeps the others' signatures intact", () => {
  const signedByA = entry("a");
  let bytes = encodeManifest(KEY, signedByA, [], "team");
  // B has no secret: it adds its entry, keeping A's exactly as it was.
  const byB = entry("b");
  bytes = encodeManifest(KEY, byB, decodeManifest(bytes, KEY, "").wire, "");
  // C has a different secret: same.
  const byC = entry("c");
  bytes = encodeManifest(KEY, byC, decodeManifest(bytes, KEY, "other").wire, "other");
  const forTeam = decodeManifest(bytes, KEY, "team");
  expect(forTeam.entries).toEqual([signedByA]);
  expect(forTeam.rejected).toBe(2);
  expect(decodeManifest(bytes, KEY, "").entries.map((e) => e.digest)).toEqual([byC, byB, signedByA].map((e) => e.digest));
});
