import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CONFIG_FILE_NAME, describeDelivery, effectiveDelivery, loadConfig, parseBool, parseSize } from "./config.ts";

test("booleans accept exactly 1/0/true/false", () => {
  expect(parseBool("1")).toEqual({ ok: true, value: true });
  expect(parseBool("False")).toEqual({ ok: true, value: false });
  expect(parseBool("yes").ok).toBe(false);
});

test("sizes", () => {
  expect(parseSize("500M")).toEqual({ ok: true, value: 500 * 1024 * 1024 });
  expect(parseSize("10G")).toEqual({ ok: true, value: 10 * 1024 ** 3 });
  expect(parseSize("4096")).toEqual({ ok: true, value: 4096 });
  expect(parseSize("lots").ok).toBe(false);
});

test("env beats file beats default, and each says where it came from", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-cfg-"));
  try {
    fs.writeFileSync(path.join(dir, CONFIG_FILE_NAME), "# comment\ncache_size = 2G\nidle_timeout_secs = 60\n");
    const c = loadConfig(dir, { ZCCACHE_IDLE_TIMEOUT_SECS: "5" });
    if (!c.ok) throw new Error(c.error);
    expect(c.value.idleTimeoutSecs).toEqual({ value: 5, source: "env" });
    expect(c.value.cacheSizeBytes).toEqual({ value: 2 * 1024 ** 3, source: "file" });
    expect(c.value.delivery).toEqual({ value: "copy", source: "default" });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("unknown keys and bad values name the file and line", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-cfg-"));
  try {
    const file = path.join(dir, CONFIG_FILE_NAME);
    fs.writeFileSync(file, "cache_size = 1G\nfrobnicate = 3\n");
    const a = loadConfig(dir, {});
    expect(a.ok ? "" : a.error).toBe(`${file}:2: unknown key 'frobnicate'`);
    fs.writeFileSync(file, "delivery = teleport\n");
    const b = loadConfig(dir, {});
    expect(b.ok ? "" : b.error).toContain(`${file}:1: delivery: expected copy or hardlink`);
    expect(loadConfig(dir, { ZCCACHE_DELIVERY: "copy" }).ok).toBe(false);
    expect(loadConfig(dir, { ZCCACHE_IDLE_TIMEOUT_SECS: "soon" }).ok).toBe(false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("hardlink delivery falls back to copy as root, and says so", () => {
  const asked = { value: "hardlink", source: "env" } as const;
  expect(effectiveDelivery(asked, 0)).toEqual({ mode: "copy", note: "hardlink requested via env; falls back to copy when running as root" });
  expect(describeDelivery(asked, 0)).toBe("copy (hardlink requested via env; falls back to copy when running as root)");
  expect(effectiveDelivery(asked, 1000)).toEqual({ mode: "hardlink", note: null });
  expect(describeDelivery(asked, 1000)).toBe("hardlink (env)");
  expect(describeDelivery({ value: "copy", source: "default" }, 0)).toBe("copy (default)");
});
