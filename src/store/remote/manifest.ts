// What a remote tier holds under a key: the sealed records of its entries (newest first),
// each optionally signed with an HMAC over the key and the record, so that a writable shared
// cache cannot be used by someone without the secret to make other machines replay an entry.
// Blobs need no signature: they are named by, and checked against, their content hash.
import { parseRecord, sealRecord } from "../local/local-store.ts";
import type { StoredEntry } from "../store.ts";

const FORMAT = "zccache-remote-manifest-v1";
/** Entries kept per key on a remote: older ones are dropped when a new one is written. */
export const MAX_REMOTE_ENTRIES = 8;

interface WireEntry {
  readonly record: string;
  readonly mac?: string;
}

interface WireManifest {
  readonly format: string;
  readonly entries: readonly WireEntry[];
}

export function macOf(secret: string, key: string, sealed: string): string {
  const h = new Bun.CryptoHasher("sha256", secret);
  h.update(`${FORMAT}\u0000${key}\u0000`);
  h.update(sealed);
  return h.digest("hex");
}

/** The sealed text of an entry, as its digest names it (the JSON it was parsed from, re-made). */
export function sealedOf(entry: StoredEntry): string {
  const { digest: _digest, ...record } = entry;
  return sealRecord(JSON.stringify(record));
}

export interface DecodedManifest {
  readonly entries: StoredEntry[];
  /** Entries left out: damaged, or unsigned / wrongly signed when a secret is set. */
  readonly rejected: number;
}

/** Reads a manifest; anything malformed yields no entries (counted as rejected). */
export function decodeManifest(bytes: Uint8Array, key: string, secret: string): DecodedManifest {
  let wire: WireManifest;
  try {
    wire = JSON.parse(Buffer.from(bytes).toString("utf8")) as WireManifest;
  } catch {
    return { entries: [], rejected: 1 };
  }
  if (wire === null || typeof wire !== "object" || wire.format !== FORMAT || !Array.isArray(wire.entries)) {
    return { entries: [], rejected: 1 };
  }
  const entries: StoredEntry[] = [];
  let rejected = 0;
  for (const w of wire.entries) {
    if (w === null || typeof w !== "object" || typeof w.record !== "string") {
      rejected++;
      continue;
    }
    if (secret !== "" && (typeof w.mac !== "string" || !timingSafeEqualHex(w.mac, macOf(secret, key, w.record)))) {
      rejected++;
      continue;
    }
    const e = parseRecord(w.record);
    if (e === null || sealedOf(e) !== w.record) {
      rejected++;
      continue;
    }
    entries.push(e);
  }
  return { entries, rejected };
}

/** A manifest with `entry` first, then the `previous` ones it does not replace, capped. */
export function encodeManifest(key: string, entry: StoredEntry, previous: readonly StoredEntry[], secret: string): Uint8Array {
  const list = [entry, ...previous.filter((p) => p.digest !== entry.digest)].slice(0, MAX_REMOTE_ENTRIES);
  const wire: WireManifest = {
    format: FORMAT,
    entries: list.map((e) => {
      const record = sealedOf(e);
      return secret === "" ? { record } : { record, mac: macOf(secret, key, record) };
    }),
  };
  return Buffer.from(JSON.stringify(wire));
}

function timingSafeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
