// Wall-clock helpers with units in their names.
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

export function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
