import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EmscriptenFingerprints, emscriptenPrograms, isEmscriptenDriver, parseEmscriptenConfig } from "./emscripten.ts";

test("emcc and em++ are Emscripten drivers", () => {
  expect(["emcc", "em++", "emcc.py"].map(isEmscriptenDriver)).toEqual([true, true, true]);
  expect(["gcc", "emar", "xemcc"].map(isEmscriptenDriver)).toEqual([false, false, false]);
});

test("the config names the programs emcc runs", () => {
  const c = parseEmscriptenConfig("# c\nLLVM_ROOT = '/usr/bin' # dir\nBINARYEN_ROOT = \"/usr\"\nNODE_JS = '/usr/bin/node'\nLLVM_ADD_VERSION = '14'\nCLANG_ADD_VERSION = '14'\nX = os.path.expanduser('~')\n");
  expect(c).toEqual({ LLVM_ROOT: "/usr/bin", BINARYEN_ROOT: "/usr", NODE_JS: "/usr/bin/node", LLVM_ADD_VERSION: "14", CLANG_ADD_VERSION: "14" });
  expect(emscriptenPrograms(c)).toContain("/usr/bin/clang-14");
  expect(emscriptenPrograms(c)).toContain("/usr/bin/wasm-ld-14");
  expect(emscriptenPrograms(c)).toContain("/usr/bin/wasm-opt");
});

test("the fingerprint follows the config, the version and the Python sources", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "zc-emroot-"));
  try {
    const emcc = path.join(root, "emcc");
    const write = (rel: string, text: string, mode = 0o644) => fs.writeFileSync(path.join(root, rel), text, { mode });
    write("emcc", `#!/bin/sh\ncat ${root}/version.txt\n`, 0o755);
    write("version.txt", "emcc 1.0\n");
    write(".emscripten", "LLVM_ROOT = '/nonexistent'\n");
    write("emcc.py", "print('one')\n");
    const fp = new EmscriptenFingerprints();
    const a = fp.fingerprint(emcc, emcc);
    expect(a).not.toBeNull();
    write(".emscripten", "LLVM_ROOT = '/elsewhere'\n");
    const b = fp.fingerprint(emcc, emcc);
    expect(b).not.toBe(a);
    write("emcc.py", "print('two')\n");
    const c = fp.fingerprint(emcc, emcc);
    expect(c).not.toBe(b);
    write("version.txt", "emcc 2.0\n");
    // The version is asked again only when a watched file changed: touch the script.
    write("emcc", `#!/bin/sh\ncat ${root}/version.txt\n`, 0o755);
    expect(fp.fingerprint(emcc, emcc)).not.toBe(c);
    write("emcc", "#!/bin/sh\nexit 1\n", 0o755);
    expect(fp.fingerprint(emcc, emcc)).toBeNull();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

/** An emscripten root whose config names `<root>/llvm` as LLVM_ROOT; its emcc's path. */
function installation(root: string): string {
  const emcc = path.join(root, "emcc");
  fs.writeFileSync(emcc, "#!/bin/sh\necho emcc 1.0\n", { mode: 0o755 });
  fs.mkdirSync(path.join(root, "llvm"));
  fs.writeFileSync(path.join(root, ".emscripten"), `LLVM_ROOT = '${root}/llvm'\n`);
  return emcc;
}

test("a program link the config names, repointed, changes the fingerprint (also one kept across restarts)", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "zc-emroot-"));
  try {
    const emcc = installation(root);
    fs.writeFileSync(path.join(root, "clang-a"), "#!/bin/sh\n# a\n", { mode: 0o755 });
    fs.writeFileSync(path.join(root, "clang-b"), "#!/bin/sh\n# b\n", { mode: 0o755 });
    const link = path.join(root, "llvm", "clang");
    fs.symlinkSync(path.join(root, "clang-a"), link);
    // Old enough that the stats can be trusted (the racy window).
    const old = new Date(Date.now() - 60_000);
    for (const f of ["emcc", ".emscripten", "clang-a", "clang-b"]) fs.utimesSync(path.join(root, f), old, old);
    const kept = new Map<string, string>();
    const keep = { get: (n: string) => kept.get(n) ?? null, set: (n: string, v: string) => void kept.set(n, v), computed: () => {} };
    const a = new EmscriptenFingerprints(keep).fingerprint(emcc, emcc);
    expect(new EmscriptenFingerprints(keep).fingerprint(emcc, emcc)).toBe(a);
    // update-alternatives style: the link now names another clang; neither target changed.
    fs.unlinkSync(link);
    fs.symlinkSync(path.join(root, "clang-b"), link);
    const fresh = new EmscriptenFingerprints(keep);
    const b = fresh.fingerprint(emcc, emcc);
    expect(b).not.toBe(a);
    expect(b).not.toBeNull();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("a clang configuration file beside the clang the config names is part of the fingerprint", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "zc-emroot-"));
  try {
    const emcc = installation(root);
    fs.writeFileSync(path.join(root, "llvm", "clang"), "#!/bin/sh\n", { mode: 0o755 });
    const fp = new EmscriptenFingerprints();
    const none = fp.fingerprint(emcc, emcc);
    expect(none).not.toBeNull();
    fs.writeFileSync(path.join(root, "llvm", "clang.cfg"), "-DV=1\n");
    const one = fp.fingerprint(emcc, emcc);
    expect(one).not.toBeNull();
    expect(one).not.toBe(none);
    fs.writeFileSync(path.join(root, "llvm", "clang.cfg"), "-DV=2\n");
    const two = fp.fingerprint(emcc, emcc);
    expect(two).not.toBe(one);
    expect(two).not.toBeNull();
    // One that moves headers cannot be accounted for: no fingerprint, so emcc runs uncached.
    fs.writeFileSync(path.join(root, "llvm", "wasm32-unknown-emscripten.cfg"), "-isystem /opt/inc\n");
    expect(fp.fingerprint(emcc, emcc)).toBeNull();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
