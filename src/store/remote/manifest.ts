// What a remote tier holds under a key: the sealed records of its entries (newest first),
// each optionally signed with an HMAC over the key and the record, so that a writable shared
// cache cannot be used by someone without the secret to make other machines replay an entry.
// Blobs need no signature: they are named by, and checked against, their content hash.
import { parseRecord, sealRecord } from "../local/local-store.ts";
import type { StoredEntry } from "../store.ts";

const FORMAT = "zccache-remote-manifest-v1";
/** Entries kept per key on a remote: older ones are dropped when a new one is written. */
export const MAX_REMOTE_ENTRIES = 8;

/** One entry as it travels: its sealed record and, when its writer had a secret, the HMAC. */
export interface WireEntry {
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
  /** The entries this reader may use. */
  readonly entries: StoredEntry[];
  /** Entries left out: damaged, or unsigned / wrongly signed when a secret is set. */
  readonly rejected: number;
  /**
   * Every well-formed entry as it was on the wire, signature included, whether or not this
   * reader can verify it: what a writer keeps when it adds its own, so a machine without the
   * secret (or with another one) never strips or breaks other machines' signatures.
   */
  readonly wire: WireEntry[];
}

/** Reads a manifest; anything malformed yields no entries (counted as rejected). */
export function decodeManifest(bytes: Uint8Array, key: string, secret: string): DecodedManifest {
  let parsed: WireManifest;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString("utf8")) as WireManifest;
  } catch {
    return { entries: [], rejected: 1, wire: [] };
  }
  if (parsed === null || typeof parsed !== "object" || parsed.format !== FORMAT || !Array.isArray(parsed.entries)) {
    return { entries: [], rejected: 1, wire: [] };
  }
  const entries: StoredEntry[] = [];
  const wire: WireEntry[] = [];
  let rejected = 0;
  for (const w of parsed.entries) {
    if (w === null || typeof w !== "object" || typeof w.record !== "string" || (w.mac !== undefined && typeof w.mac !== "string")) {
      rejected++;
      continue;
    }
    const e = parseRecord(w.record);
    if (e === null || sealedOf(e) !== w.record) {
      rejected++;
      continue;
    }
    wire.push(w.mac === undefined ? { record: w.record } : { record: w.record, mac: w.mac });
    if (secret !== "" && (w.mac === undefined || !timingSafeEqualHex(w.mac, macOf(secret, key, w.record)))) {
      rejected++;
      continue;
    }
    entries.push(e);
  }
  return { entries, rejected, wire };
}

/**
 * A manifest with `entry` first (signed when there is a secret), then the `previous` wire
 * entries it does not replace, kept exactly as they were; capped.
 */
export function encodeManifest(key: string, entry: StoredEntry, previous: readonly WireEntry[], secret: string): Uint8Array {
  const record = sealedOf(entry);
  const first: WireEntry = secret === "" ? { record } : { record, mac: macOf(secret, key, record) };
  const rest = previous.filter((p) => p.record.slice(0, 64) !== entry.digest);
  const wire: WireManifest = { format: FORMAT, entries: [first, ...rest].slice(0, MAX_REMOTE_ENTRIES) };
  return Buffer.from(JSON.stringify(wire));
}

function timingSafeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
