// A real third-party crate graph nobody here wrote (serde, serde_derive, serde_json and their
// dependencies from Debian's librust-*-dev packages, built offline through a directory source
// replacement): it builds through the cache, rebuilds from a clean target with hits only,
// the program behaves the same, and a second program on the same crates shares them.
import { afterAll, describe, expect, test } from "bun:test";
import * as path from "node:path";
import { CacheEnv, missing, run } from "../helpers.ts";
import { CARGO_BIN, cargo, cargoMeasured, debianHasCrate, writeSerdeProgram } from "../fixtures/rust/cargo.ts";

const env = new CacheEnv();
afterAll(() => CacheEnv.stopAll());

const absent = ["serde", "serde_derive", "serde_json", "syn", "quote", "proc-macro2", "itoa", "ryu"].filter((c) => !debianHasCrate(c));
const skip = CARGO_BIN === null || absent.length > 0;
if (skip) {
  missing(
    CARGO_BIN === null
      ? "rust-third-party: no cargo"
      : `rust-third-party: Debian crates missing (${absent.join(", ")}); run scripts/ensure-test-tools.sh as root`,
    "the suite is",
  );
}

const EXPECTED = '{"id":7,"items":["tea","cake"],"total":12.5} Order { id: 7, items: ["tea", "cake"], total: 12.5 }';

describe.skipIf(skip)("serde_json program from Debian's crates", () => {
  const app = path.join(env.work, "orders");

  test("builds through the cache, rebuilds from clean with hits only, behaves the same", () => {
    writeSerdeProgram(app, "orders");
    const cold = cargoMeasured(env, ["build"], app);
    expect(cold.d.misses).toBeGreaterThanOrEqual(10);
    expect(cold.d.errors).toBe(0);
    const first = run([path.join(app, "target", "debug", "orders")]);
    expect(first.code).toBe(0);
    expect(first.out.trim()).toBe(EXPECTED);

    cargo(env, ["clean"], app);
    const warm = cargoMeasured(env, ["build"], app);
    expect({ hits: warm.d.hits, misses: warm.d.misses, errors: warm.d.errors }).toEqual({ hits: cold.d.misses, misses: 0, errors: 0 });
    expect(warm.d.languages.rust?.hits).toBe(cold.d.misses);
    const second = run([path.join(app, "target", "debug", "orders")]);
    expect(second.out).toBe(first.out);

    const fresh = cargoMeasured(env, ["build"], app);
    expect(fresh.d.hits + fresh.d.misses).toBe(0);
  });

  test("another program elsewhere reuses every third-party crate; only its own bin compiles", () => {
    const other = path.join(env.work, "elsewhere", "invoices");
    writeSerdeProgram(other, "invoices");
    const r = cargoMeasured(env, ["build"], other);
    expect(r.d.misses).toBe(1);
    expect(r.d.hits).toBeGreaterThanOrEqual(9);
    const out = run([path.join(other, "target", "debug", "invoices")]);
    expect(out.out.trim()).toBe(EXPECTED);
  });
});
