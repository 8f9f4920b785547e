// SHA-256 content hashing (Bun's native hasher) and branded hash strings.
export type ContentHash = string & { readonly __brand: "ContentHash" };

export function sha256Hex(data: string | Uint8Array): ContentHash {
  const h = new Bun.CryptoHasher("sha256");
  h.update(data);
  return h.digest("hex") as ContentHash;
}

export function isContentHash(s: string): s is ContentHash {
  return /^[0-9a-f]{64}$/.test(s);
}

/**
 * Builds a digest from typed fields with explicit delimiters, so that
 * ["ab", "c"] and ["a", "bc"] can never collide.
 */
export class KeyHasher {
  private readonly h = new Bun.CryptoHasher("sha256");
  constructor(tag: string) {
    this.field("tag", tag);
  }
  field(name: string, value: string | Uint8Array): this {
    const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
    this.h.update(`${name}\u0000${bytes.length}\u0000`);
    this.h.update(bytes);
    this.h.update("\u0001");
    return this;
  }
  list(name: string, values: readonly string[]): this {
    this.field(`${name}#`, String(values.length));
    values.forEach((v, i) => {
      this.field(`${name}[${i}]`, v);
    });
    return this;
  }
  hex(): string {
    return this.h.digest("hex");
  }
}
