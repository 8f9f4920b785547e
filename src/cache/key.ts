// Cache keys: a format-version tag, then named fields with explicit delimiters.
// Changing what goes in here must change the known-answer vector in key.test.ts.
import { KeyHasher } from "../platform/hash.ts";

export type CacheKey = string & { readonly __brand: "CacheKey" };

/**
 * Bump when the meaning of any field changes: old entries then simply stop matching. v4: a
 * C/C++ entry whose compile named its tree by a path the key holds as written is bound to
 * its directory (cc-relocation.ts placeHeld); v3 entries of such compiles were not.
 */
export const KEY_FORMAT = "zccache-key-v4";

export interface KeyField {
  readonly name: string;
  readonly value: string | readonly string[];
}

export function cacheKey(kind: string, fields: readonly KeyField[]): CacheKey {
  const h = new KeyHasher(`${KEY_FORMAT}/${kind}`);
  for (const f of fields) {
    if (typeof f.value === "string") h.field(f.name, f.value);
    else h.list(f.name, f.value as readonly string[]);
  }
  return h.hex() as CacheKey;
}
