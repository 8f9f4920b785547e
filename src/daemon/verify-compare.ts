// Byte-for-byte comparison of what a hit delivered with what a fresh compile wrote, and the
// words that say where they differ. Pure: the callers read the files.

/** One output whose bytes differ (or that only one side has). */
export interface OutputDifference {
  /** "object", "depfile", "dwo", … */
  readonly role: string;
  /** The output as the build names it. */
  readonly path: string;
  /**
   * The first byte that differs (the shorter length when one is a prefix of the other); null
   * when a side is missing or only its hash is known (its bytes were evicted).
   */
  readonly offset: number | null;
  /** Sizes in bytes; null when that side has no file. */
  readonly expectedSize: number | null;
  readonly freshSize: number | null;
}

/** What is compared for one output: the delivered bytes against the fresh compile's. */
export interface ComparedOutput {
  readonly role: string;
  readonly path: string;
  readonly expected: Uint8Array | null;
  readonly fresh: Uint8Array | null;
}

/** The first offset where `a` and `b` differ, or null when they are equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number | null {
  const n = Math.min(a.length, b.length);
  // Whole-buffer equality first: native, and the common answer.
  if (a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length))) return null;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/** Every output whose sides differ, in the order given. */
export function compareOutputs(outputs: readonly ComparedOutput[]): OutputDifference[] {
  const out: OutputDifference[] = [];
  for (const o of outputs) {
    const expectedSize = o.expected?.length ?? null;
    const freshSize = o.fresh?.length ?? null;
    if (o.expected === null || o.fresh === null) {
      if (o.expected !== null || o.fresh !== null) out.push({ role: o.role, path: o.path, offset: null, expectedSize, freshSize });
      continue;
    }
    const offset = firstDifference(o.expected, o.fresh);
    if (offset !== null) out.push({ role: o.role, path: o.path, offset, expectedSize, freshSize });
  }
  return out;
}

/**
 * "object a.o differs at byte 1234 (delivered 5000 B, fresh 5008 B)", or which side is
 * missing; `expectedSide` names the side compared with the fresh compile ("on disk").
 */
export function describeDifference(d: OutputDifference, expectedSide = "delivered"): string {
  const what = `${d.role} ${d.path}`;
  if (d.expectedSize === null) return `${what}: the fresh compile wrote it, but it was not ${expectedSide}`;
  if (d.freshSize === null) return `${what}: ${expectedSide}, but the fresh compile did not write it`;
  const where = d.offset === null ? "differs" : `differs at byte ${d.offset}`;
  return `${what} ${where} (${expectedSide} ${d.expectedSize} B, fresh ${d.freshSize} B)`;
}
