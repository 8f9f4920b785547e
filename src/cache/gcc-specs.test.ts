import { expect, test } from "bun:test";
import { specsCandidates } from "./gcc-specs.ts";

const DEBIAN_GCC_12 = [
  "install: /usr/lib/gcc/x86_64-linux-gnu/12/",
  "programs: =/usr/lib/gcc/x86_64-linux-gnu/12/:/usr/lib/gcc/x86_64-linux-gnu/",
  "libraries: =/w/lib/x86_64-linux-gnu/12/:/w/lib/x86_64-linux-gnu/:/w/lib/../lib/:rel/x86_64-linux-gnu/12/:/usr/lib/gcc/x86_64-linux-gnu/12/:/usr/lib/gcc/x86_64-linux-gnu/12/../../../../x86_64-linux-gnu/lib/x86_64-linux-gnu/12/:/usr/lib/gcc/x86_64-linux-gnu/12/../../../../x86_64-linux-gnu/lib/:/lib/x86_64-linux-gnu/12/:/usr/lib/",
  "",
].join("\n");

test("where gcc may read a specs file: every library directory, and the prefixes above <machine>/<version>", () => {
  const c = specsCandidates(DEBIAN_GCC_12, "/cwd");
  // What gcc 12 was seen to try (strace), with LIBRARY_PATH=/w/lib:rel.
  for (const p of [
    "/w/lib/x86_64-linux-gnu/12/specs",
    "/w/lib/specs",
    "/cwd/rel/x86_64-linux-gnu/12/specs",
    "/cwd/rel/specs",
    "/usr/lib/gcc/x86_64-linux-gnu/12/specs",
    "/usr/lib/gcc/x86_64-linux-gnu/specs",
    "/usr/lib/gcc/x86_64-linux-gnu/12/../../../../x86_64-linux-gnu/lib/x86_64-linux-gnu/12/specs",
    "/usr/lib/gcc/x86_64-linux-gnu/12/../../../../x86_64-linux-gnu/lib/specs",
  ]) {
    expect(c).toContain(p);
  }
  // `..` is left for the kernel: after a symlink it is not the lexical parent.
  expect(c?.some((p) => p.startsWith("/usr/x86_64-linux-gnu/"))).toBe(false);
});

test("output it does not understand gives no list", () => {
  expect(specsCandidates("libraries: =/usr/lib/\n", "/")).toBeNull();
  expect(specsCandidates("install: /\nlibraries: =/usr/lib/\n", "/")).toBeNull();
});
