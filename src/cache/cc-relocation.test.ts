import { expect, test } from "bun:test";
import { NO_RELOCATION } from "../compilers/cc/relocate.ts";
import { type CcJob } from "../compilers/cc/plan.ts";
import { bindingOf, placeBindingOf, placeHeld, portability, renderStdio } from "./cc-relocation.ts";

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
    cwd: "/b/c1/build",
    logicalCwd: "/b/c1/build",
    reloc: { baseDirs: ["/b"], remap: false },
    mode: { namesBound: false, locationBound: false },
    stdout: Buffer.alloc(0),
    stderr: Buffer.alloc(0),
    spelledInputs: ["/b/c1/src/a.c", "/b/c1/include/q.h"],
    inputs: [],
    preprocess: () => Promise.resolve({ exitCode: 0, stdout: Buffer.from("const char *s = \"x\";\n") }),
    outputBytes: [Buffer.from("\x7fELF object")],
    depfileText: null,
    outputSpelled: "a.o",
    placeHeld: false,
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
  expect((await portability(input({ inputs: [{ absoluteIncludes: true }] }))).binding).not.toBeNull();
  // An input spelled with this tree's path: the preprocessed text decides.
  const pre = (text: string) => () => Promise.resolve({ exitCode: 0, stdout: Buffer.from(text) });
  expect((await portability(input({ preprocess: pre('f("/b/c1/src/a.c");') }))).binding).not.toBeNull();
  expect((await portability(input({ preprocess: pre("g(__builtin_FILE());") }))).binding).not.toBeNull();
  expect((await portability(input({ preprocess: () => Promise.resolve({ exitCode: 1, stdout: Buffer.alloc(0) }) }))).binding).not.toBeNull();
  expect((await portability(input({ preprocess: pre("int x = 1;") }))).binding).toBeNull();
  // Relative spellings cannot name the tree: nothing is preprocessed.
  const never = () => Promise.reject(new Error("must not preprocess"));
  expect((await portability(input({ spelledInputs: ["../src/a.c"], preprocess: never }))).binding).toBeNull();
  // Without a base dir only the cwd is this tree's mark.
  expect((await portability(input({ reloc: NO_RELOCATION, stderr: Buffer.from("/b/c1/src/a.c:1: warning\n") }))).binding).toBeNull();
});

test("an absolute path in the tree that the key holds as written holds the entry to its directory", () => {
  const held = (key: string[], cwd: string, baseDirs: string[] = [], logical = cwd, more: { systemDirs?: string[]; inputs?: string[] } = {}): boolean =>
    placeHeld({ key, systemDirs: more.systemDirs ?? [], inputs: more.inputs ?? [] }, cwd, logical, baseDirs);
  // The source, an include directory, a sysroot, a directory in a list, the cwd itself.
  expect(held(["-c", "/w/src/a.c"], "/w")).toBe(true);
  expect(held(["-I/w/inc", "-c", "src/a.c"], "/w")).toBe(true);
  expect(held(["-I", "/w/inc"], "/w")).toBe(true);
  expect(held(["--sysroot=/w/sys"], "/w")).toBe(true);
  expect(held(["/w:/usr/local/include"], "/w")).toBe(true);
  expect(held(["/w"], "/w")).toBe(true);
  // Entered through a link: the name the compiler records counts too.
  expect(held(["-c", "/link/src/a.c"], "/w", [], "/link")).toBe(true);
  // Relative spellings, other directories, names that only start like the cwd.
  expect(held(["-Iinc", "-I../inc", "-c", "src/a.c"], "/w")).toBe(false);
  expect(held(["-c", "/w2/a.c", "-I/w.old/inc", "-I/w-x"], "/w")).toBe(false);
  // The cwd "/" names everything and records nothing relative.
  expect(held(["-c", "/src/a.c"], "/")).toBe(false);
  // Under a base dir the key holds rewritten paths (no marker left); one it did not rewrite
  // (an option it does not know, a variable it keeps) still names the tree or the base.
  expect(held(["-c", "\u0000base-relative:src/a.c"], "/b/c1", ["/b"])).toBe(false);
  expect(held(["-cxx-isystem/b/c1/inc"], "/b/c1", ["/b"])).toBe(true);
  expect(held(["-DROOT=/b/other"], "/b/c1", ["/b"])).toBe(true);
  // A system directory in the tree: the compiler's location is not in the key.
  expect(held([], "/w", [], "/w", { systemDirs: ["/usr/include"] })).toBe(false);
  expect(held([], "/w", [], "/w", { systemDirs: ["/w/tc/include"] })).toBe(true);
  expect(held([], "/b/c1", ["/b"], "/b/c1", { systemDirs: ["/b/c1/tc/include"] })).toBe(true);
  // Inputs spelled absolute count below a cwd no base dir covers.
  expect(held([], "/w", [], "/w", { inputs: ["/w/src/h.h"] })).toBe(true);
  expect(held([], "/w", [], "/w", { inputs: ["src/h.h", "/usr/include/stdio.h"] })).toBe(false);
  expect(held([], "/b/c1", ["/b"], "/b/c1", { inputs: ["/b/c1/src/h.h"] })).toBe(false);
});

test("a place-held entry is bound to its cwd alone and skips the preprocessed-text check", async () => {
  let ran = false;
  const p = await portability(
    input({
      placeHeld: true,
      reloc: { baseDirs: [], remap: false },
      preprocess: () => {
        ran = true;
        return Promise.resolve({ exitCode: 0, stdout: Buffer.from("") });
      },
    }),
  );
  expect(p.binding).toBe(placeBindingOf("/b/c1/build", "/b/c1/build"));
  expect(ran).toBe(false);
  // A link's name and the directory it leads to are both part of the place.
  expect(placeBindingOf("/b/c1/build", "/b/c1/build")).not.toBe(placeBindingOf("/b/c1/build2", "/b/c1/build2"));
  expect(placeBindingOf("/real/a", "/link")).not.toBe(placeBindingOf("/real/b", "/link"));
  expect(bindingOf("/real/a", "/link", ["-c"])).not.toBe(bindingOf("/real/b", "/link", ["-c"]));
});
