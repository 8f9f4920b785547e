import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { emccFlagsAcceptable, emscriptenConfigPath, emscriptenSettings } from "./emscripten-config.ts";

const base = fs.mkdtempSync(path.join(os.tmpdir(), "zc-emconfig-"));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

test("the configuration file emcc reads: EM_CONFIG, else the installation's, emsdk's, the home directory's", () => {
  // emsdk's layout: <emsdk>/upstream/emscripten/emcc, its config in <emsdk>.
  const emsdk = path.join(base, "emsdk");
  const root = path.join(emsdk, "upstream", "emscripten");
  const home = path.join(base, "home");
  fs.mkdirSync(root, { recursive: true });
  fs.mkdirSync(home);
  const env = { HOME: home };
  expect(emscriptenConfigPath(root, env, "/cwd")).toBeNull();
  fs.writeFileSync(path.join(home, ".emscripten"), "");
  expect(emscriptenConfigPath(root, env, "/cwd")).toBe(path.join(home, ".emscripten"));
  fs.writeFileSync(path.join(emsdk, ".emscripten"), "");
  expect(emscriptenConfigPath(root, env, "/cwd")).toBe(path.join(emsdk, ".emscripten"));
  fs.writeFileSync(path.join(root, ".emscripten"), "");
  expect(emscriptenConfigPath(root, env, "/cwd")).toBe(path.join(root, ".emscripten"));
  // EM_CONFIG wins, whether the file is there or not; `~` is HOME's, a relative path the cwd's.
  expect(emscriptenConfigPath(root, { ...env, EM_CONFIG: "~/cfg" }, "/cwd")).toBe(path.join(home, "cfg"));
  expect(emscriptenConfigPath(root, { ...env, EM_CONFIG: "sub/cfg" }, "/cwd")).toBe("/cwd/sub/cfg");
  expect(emscriptenConfigPath(root, { ...env, EM_CONFIG: "/abs/cfg" }, "/cwd")).toBe("/abs/cfg");
});

test("EMCC_CFLAGS: options a clang configuration file may hold are accepted, anything else is not", () => {
  for (const ok of [undefined, "", "-O2", "-DX=1 -Wall", "-O2 '-DNAME=ab'"]) {
    expect({ ok, accepted: emccFlagsAcceptable(ok === undefined ? {} : { EMCC_CFLAGS: ok }) }).toEqual({ ok, accepted: true });
  }
  // (A quoted word with a space in it is refused too: read as emcc's shlex reads it, not ours.)
  for (const bad of ["-Iinc", "-g", "-sUSE_SDL=2", "-o x.o", "-MD", "@args", "-include rel.h", "# -O2", "-O2\n-Iinc", "-D$X", "'-DNAME=a b'"]) {
    expect({ bad, accepted: emccFlagsAcceptable({ EMCC_CFLAGS: bad }) }).toEqual({ bad, accepted: false });
  }
});

test("a configuration's settings that name programs: literal, emsdk's joined ones, or nothing we can follow", () => {
  const debian = "EMSCRIPTEN_ROOT = '/usr/share/emscripten' # directory\nLLVM_ROOT = '/usr/bin' # directory\nNODE_JS = '/usr/bin/node'\nFROZEN_CACHE = True\nCLANG_ADD_VERSION = '14'\n";
  expect(emscriptenSettings(debian, "/usr/share/emscripten/.emscripten")).toEqual({
    settings: { EMSCRIPTEN_ROOT: "/usr/share/emscripten", LLVM_ROOT: "/usr/bin", NODE_JS: "/usr/bin/node", CLANG_ADD_VERSION: "14" },
    computed: false,
  });
  const emsdk = "import os\nemsdk_path = os.path.dirname(os.getenv('EM_CONFIG')).replace('\\\\', '/')\nLLVM_ROOT = emsdk_path + '/upstream/bin'\n";
  expect(emscriptenSettings(emsdk, "/opt/emsdk/.emscripten")?.settings.LLVM_ROOT).toBe("/opt/emsdk/upstream/bin");
  expect(emscriptenSettings("root = '/opt/sdk'\nBINARYEN_ROOT = root + '/binaryen'\n", "/x/.emscripten")?.settings.BINARYEN_ROOT).toBe("/opt/sdk/binaryen");
  for (const text of [
    "import os\nLLVM_ROOT = os.path.join('/d', 'llvm')\n",
    "LLVM_ROOT = '/a'\nLLVM_ROOT += '/b'\n",
    "if True:\n  LLVM_ROOT = '/a'\n",
    "NODE_JS = ['/usr/bin/node', '--stack-size=8192']\n",
    "COMPILER_WRAPPER = None\n",
    "LLVM_ROOT = other + '/bin'\n",
  ]) {
    expect({ text, read: emscriptenSettings(text, "/x/.emscripten") }).toEqual({ text, read: null });
  }
});
