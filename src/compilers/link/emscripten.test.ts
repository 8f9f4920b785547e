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
