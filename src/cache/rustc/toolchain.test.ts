import { afterEach, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ContentHash } from "../../platform/hash.ts";
import type { CompilerIdentity } from "../compiler-identity.ts";
import { isRustupProxy } from "./toolchain.ts";

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

function bin(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "zc-rustup-"));
  roots.push(root);
  fs.writeFileSync(path.join(root, "rustup"), "#!/bin/sh\n", { mode: 0o755 });
  return root;
}

function ident(p: string): CompilerIdentity {
  return { path: p, hash: "0".repeat(64) as ContentHash, realName: path.basename(fs.realpathSync(p)) };
}

test("a rustup proxy is recognised as a symlink to rustup and as a hard link to the rustup beside it", () => {
  const dir = bin();
  fs.symlinkSync("rustup", path.join(dir, "rustc"));
  fs.linkSync(path.join(dir, "rustup"), path.join(dir, "cargo"));
  expect(isRustupProxy(ident(path.join(dir, "rustc")))).toBe(true);
  expect(isRustupProxy(ident(path.join(dir, "cargo")))).toBe(true);
});

test("a rustc with no rustup beside it is not recognised up front (a probe decides: toolchain.ts)", () => {
  const lone = bin();
  fs.rmSync(path.join(lone, "rustup"));
  fs.writeFileSync(path.join(lone, "rustc"), "x");
  expect(isRustupProxy(ident(path.join(lone, "rustc")))).toBe(false);
});
