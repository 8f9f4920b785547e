import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CONFIG_FILE_NAME, loadConfig, parseRate } from "./config.ts";

test("verify_rate accepts fractions from 0 to 1", () => {
  for (const [raw, value] of [
    ["0", 0],
    ["1", 1],
    ["0.01", 0.01],
    [".5", 0.5],
    ["1.0", 1],
    ["0.", 0],
    [" 0.25 ", 0.25],
  ] as const) {
    expect({ raw, r: parseRate(raw) }).toEqual({ raw, r: { ok: true, value } });
  }
});

test("verify_rate refuses anything else with one message", () => {
  for (const raw of ["", "2", "1.01", "-0.5", "-0", "10%", "1/2", "1e-2", "0x1", "often", "NaN", "Infinity", "0.5.1"]) {
    expect({ raw, r: parseRate(raw) }).toEqual({
      raw,
      r: { ok: false, error: `expected a fraction from 0 to 1 (e.g. 0.01), got '${raw}'` },
    });
  }
});

test("verify_rate: default 0, from the file, the environment wins, and a bad value names the variable", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-rate-"));
  try {
    const none = loadConfig(dir, {});
    expect(none.ok && none.value.verifyRate).toEqual({ value: 0, source: "default" });
    fs.writeFileSync(path.join(dir, CONFIG_FILE_NAME), "verify_rate = 0.1\n");
    const file = loadConfig(dir, {});
    expect(file.ok && file.value.verifyRate).toEqual({ value: 0.1, source: "file" });
    const env = loadConfig(dir, { ZCCACHE_VERIFY_RATE: "1" });
    expect(env.ok && env.value.verifyRate).toEqual({ value: 1, source: "env" });
    const bad = loadConfig(dir, { ZCCACHE_VERIFY_RATE: "3" });
    expect(bad.ok ? "" : bad.error).toBe("ZCCACHE_VERIFY_RATE: expected a fraction from 0 to 1 (e.g. 0.01), got '3'");
    fs.writeFileSync(path.join(dir, CONFIG_FILE_NAME), "verify_rate = half\n");
    const badFile = loadConfig(dir, {});
    expect(badFile.ok ? "" : badFile.error).toBe(
      `${path.join(dir, CONFIG_FILE_NAME)}:1: verify_rate: expected a fraction from 0 to 1 (e.g. 0.01), got 'half'`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
