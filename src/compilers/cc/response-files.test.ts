import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expandResponseFiles, FD_INPUT, splitResponseFile } from "./response-files.ts";

test("splits words with quotes and escapes like gcc", () => {
  expect(splitResponseFile(`-c "a b.c"  -DX='1 2' -DY=\\"q\\"\n-o out.o`)).toEqual([
    "-c",
    "a b.c",
    "-DX=1 2",
    '-DY="q"',
    "-o",
    "out.o",
  ]);
  expect(splitResponseFile(`"" x`)).toEqual(["", "x"]);
});

test("expands nested response files relative to the cwd", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-rsp-"));
  try {
    fs.writeFileSync(path.join(dir, "outer.rsp"), "-c @inner.rsp m.c");
    fs.writeFileSync(path.join(dir, "inner.rsp"), "-DA=1 -O2");
    const r = expandResponseFiles(["@outer.rsp", "-o", "m.o", "@missing.rsp"], dir);
    expect(r.ok && r.value.args).toEqual(["-c", "-DA=1", "-O2", "m.c", "-o", "m.o", "@missing.rsp"]);
    fs.writeFileSync(path.join(dir, "loop.rsp"), "@loop.rsp");
    expect(expandResponseFiles(["@loop.rsp"], dir).ok).toBe(false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a response file that is one of the client's descriptors, or not a regular file, is refused", () => {
  expect(expandResponseFiles(["-c", "@/dev/fd/63"], "/")).toEqual({ ok: false, error: FD_INPUT });
  expect(expandResponseFiles(["@/proc/self/fd/0"], "/")).toEqual({ ok: false, error: FD_INPUT });
  expect(expandResponseFiles(["@/dev/stdin"], "/")).toEqual({ ok: false, error: FD_INPUT });
  expect(expandResponseFiles(["@fd/3"], "/dev").ok).toBe(false);
  expect(expandResponseFiles(["@/tmp"], "/").ok).toBe(false);
});
