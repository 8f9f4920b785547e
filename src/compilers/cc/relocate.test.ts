import { expect, test } from "bun:test";
import { BASE_RELATIVE } from "../../platform/relative-paths.ts";
import { keyMode, NO_RELOCATION, portableArgs, portableEnv, remapArgs } from "./relocate.ts";

const reloc = { baseDirs: ["/b"], remap: false };

test("output names leave the key unless an option writes them into the outputs", () => {
  const args = ["-O2", "-c", "a.c", "-o", "x1.o", "-MD", "-MF", "d/x1.d", "-MTx1.o", "-MQ", "q"];
  const mode = keyMode(args, NO_RELOCATION);
  expect(mode).toEqual({ namesBound: false, locationBound: false });
  expect(portableArgs(args, "/w", NO_RELOCATION, mode)).toEqual(["-O2", "-c", "a.c", "-o", "-MD", "-MF", "-MT", "-MQ"]);
  for (const bound of ["-gsplit-dwarf", "--coverage", "-fprofile-arcs", "-ftest-coverage", "-fstack-usage", "-save-temps"]) {
    expect(keyMode([...args, bound], NO_RELOCATION).namesBound).toBe(true);
  }
});

test("the location stays in the key for debug info, coverage, sanitizers and pass-throughs", () => {
  for (const a of ["-g", "-g3", "-ggdb", "-gdwarf-4", "--coverage", "-fsanitize=address", "-frecord-gcc-switches", "-Xclang", "-Wa,-g"]) {
    expect(keyMode(["-c", "a.c", a], reloc).locationBound).toBe(true);
  }
  for (const a of ["-g0", "-O2", "-fPIC", "-Wall", "-DNDEBUG"]) expect(keyMode(["-c", "a.c", a], reloc).locationBound).toBe(false);
  // Remapped debug info is cwd-relative, as the key is.
  expect(keyMode(["-c", "a.c", "-g"], { ...reloc, remap: true }).locationBound).toBe(false);
});

test("absolute paths under a base dir are written relative to the cwd, marked", () => {
  const cwd = "/b/c1/build";
  const args = ["-I/b/c1/include", "-isystem", "/b/c1/sys", "-I/usr/include/x", "-c", "/b/c1/src/a.c", "-DROOT=\"/b/c1\"", "-ffile-prefix-map=/b/c1=."];
  const out = portableArgs(args, cwd, reloc, keyMode(args, reloc));
  expect(out).toEqual([
    `-I${BASE_RELATIVE}../include`,
    "-isystem",
    `${BASE_RELATIVE}../sys`,
    "-I/usr/include/x",
    "-c",
    `${BASE_RELATIVE}../src/a.c`,
    "-DROOT=\"/b/c1\"",
    `-ffile-prefix-map=${BASE_RELATIVE}..=.`,
  ]);
  // The second checkout's spelling is the same key; a path written relative is not.
  const two = args.map((a) => a.replaceAll("/b/c1", "/b/checkout-two"));
  const outTwo = portableArgs(two, "/b/checkout-two/build", reloc, keyMode(two, reloc));
  expect(outTwo.filter((a) => !a.startsWith("-DROOT"))).toEqual(out.filter((a) => !a.startsWith("-DROOT")));
  expect(portableArgs(["-I../include"], cwd, reloc, keyMode([], reloc))).not.toEqual([out[0]]);
  // Location bound: every argument as written.
  const g = [...args, "-g"];
  expect(portableArgs(g, cwd, reloc, keyMode(g, reloc))).toEqual(g.filter((a) => a !== "-o"));
});

test("remap maps the cwd and its parents up to the base dir, only when asked", () => {
  expect(remapArgs("/b/c1/build", reloc)).toEqual([]);
  expect(remapArgs("/b/c1/build", { ...reloc, remap: true })).toEqual([
    "-ffile-prefix-map=/b=../..",
    "-ffile-prefix-map=/b/c1=..",
    "-ffile-prefix-map=/b/c1/build=.",
  ]);
});

test("include path variables: directories under a base dir relative in the key, others as they are", () => {
  const reloc = { baseDirs: ["/base"], remap: false };
  const free = { namesBound: false, locationBound: false };
  const a = portableEnv({ CPATH: "/base/one/cp::/usr/local/inc", LANG: "C" }, "/base/one", reloc, free);
  const b = portableEnv({ CPATH: "/base/two/cp::/usr/local/inc", LANG: "C" }, "/base/two", reloc, free);
  expect(a).toEqual(b);
  expect(a.CPATH).toBe(`${BASE_RELATIVE}cp::/usr/local/inc`);
  // Bound to its location (-g without remapping, …): as written.
  const env = { C_INCLUDE_PATH: "/base/one/cp" };
  expect(portableEnv(env, "/base/one", reloc, { namesBound: false, locationBound: true })).toBe(env);
});
