// The product version, and the comparison used to decide whether a daemon must be replaced.
import pkg from "../../package.json" with { type: "json" };

/**
 * The version this process runs as. Test-only: ZCCACHE_TEST_DAEMON_VERSION (read once) makes a
 * daemon, and the client that starts it, claim another version, so a suite can stand up an
 * "older" or "newer" daemon.
 */
export const PRODUCT_VERSION: string = process.env.ZCCACHE_TEST_DAEMON_VERSION || pkg.version;

/** Numeric dotted comparison: negative when a < b. Non-numeric parts compare as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
