import { expect, test } from "bun:test";
import { compilerFamily } from "./family.ts";

test("families from invoked names", () => {
  const cases: [string, string, string | null][] = [
    ["gcc", "x86_64-linux-gnu-gcc-12", "gcc"],
    ["x86_64-linux-gnu-g++-12", "x86_64-linux-gnu-g++-12", "gcc"],
    ["cc", "clang-14", "clang"],
    ["cc", "x86_64-linux-gnu-gcc-12", "gcc"],
    ["clang++-14", "clang", "clang"],
    ["emcc", "emcc", "emcc"],
    ["em++", "em++", "emcc"],
    ["rustc", "rustc", "rustc"],
    ["clippy-driver", "clippy-driver", "rustc"],
    ["ar", "x86_64-linux-gnu-ar", "archiver"],
    ["llvm-ar-14", "llvm-ar", "archiver"],
    ["ld.lld", "lld", "linker"],
    ["wasm-ld", "lld", "linker"],
    ["true", "true", null],
    ["python3", "python3.11", null],
  ];
  for (const [invoked, real, want] of cases) expect([invoked, compilerFamily(invoked, real)]).toEqual([invoked, want]);
});
