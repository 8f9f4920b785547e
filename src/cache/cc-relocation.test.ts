import { expect, test } from "bun:test";
import { NO_RELOCATION } from "../compilers/cc/relocate.ts";
import { type CcJob } from "../compilers/cc/plan.ts";
import { portability, renderStdio } from "./cc-relocation.ts";

const job: CcJob = {
  source: { path: "/b/c1/src/a.c", language: "c", argIndex: 1 },
  sourceAbs: "/b/c1/src/a.c",
  args: ["-c", "/b/c1/src/a.c", "-o", "a.o"],
  objectPath: "/b/c1/build/a.o",
  userDepfile: null,
  sideOutputs: [],
  language: "c",
};

function input(over: Partial<Parameters<typeof portability>[0]> = {}): Parameters<typeof portability>[0] {
  return {
    job,
    family: "gcc",
    compilerPath: "/usr/bin/gcc",
    runArgs: job.args,
    cwd: "/b/c1/build",
    env: {},
    reloc: { baseDirs: ["/b"], remap: false },
    mode: { namesBound: false, locationBound: false },
    stdout: Buffer.alloc(0),
    stderr: Buffer.alloc(0),
    spelledInputs: ["/b/c1/src/a.c", "/b/c1/include/q.h"],
    inputs: [],
    outputBytes: [Buffer.from("\x7fELF object")],
    depfileText: null,
    outputSpelled: "a.o",
    ...over,
  };
}

test("diagnostics naming inputs under a base dir are templated and rendered for another tree", async () => {
  const stderr = Buffer.from("In file included from /b/c1/include/q.h:3,\n/b/c1/src/a.c:5:2: warning: x [-Wx]\n");
  const p = await portability(input({ stderr }));
  expect(p.binding).toBeNull();
  expect(p.stdio).not.toBeNull();
  const stored = p.stdio?.stderr ?? Buffer.alloc(0);
  expect(stored.includes("/b/c1")).toBe(false);
  expect(renderStdio(stored, "/b/c1/build").equals(stderr)).toBe(true);
  expect(renderStdio(stored, "/b/checkout-two/build").toString()).toBe(stderr.toString().replaceAll("/b/c1/", "/b/checkout-two/"));
});

test("anything else naming the tree binds the entry", async () => {
  expect((await portability(input({ stderr: Buffer.from("cc1: note: /b/c1/build/gen.h\n") }))).binding).not.toBeNull();
  expect((await portability(input({ outputBytes: [Buffer.from("x/b/c1/src/a.c")] }))).binding).not.toBeNull();
  expect((await portability(input({ inputs: [{ locationMacros: "builtin", absoluteIncludes: false }] }))).binding).not.toBeNull();
  expect((await portability(input({ inputs: [{ locationMacros: "none", absoluteIncludes: true }] }))).binding).not.toBeNull();
  // Relative spellings cannot name the tree: __builtin_FILE is harmless then.
  const relative = input({ spelledInputs: ["../src/a.c"], inputs: [{ locationMacros: "builtin", absoluteIncludes: false }] });
  expect((await portability(relative)).binding).toBeNull();
  // Without a base dir only the cwd is this tree's mark.
  expect((await portability(input({ reloc: NO_RELOCATION, stderr: Buffer.from("/b/c1/src/a.c:1: warning\n") }))).binding).toBeNull();
});
