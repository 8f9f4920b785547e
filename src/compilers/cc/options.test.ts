// lookupOption answers from indexes built over the option tables; the rule it must keep is the
// plain one below (a scan of both tables), checked on every table entry, joined and prefixed
// spellings of each, and words no table names.
import { expect, test } from "bun:test";
import { EXACT_OPTIONS, lookupOption, type OptionSpec, PREFIX_OPTIONS } from "./options.ts";

/** The rule by scanning: exact, else the longest joinable exact name, else the first prefix. */
function byScan(arg: string): { name: string; spec: OptionSpec } | null {
  const exact = EXACT_OPTIONS.get(arg);
  if (exact) return { name: arg, spec: exact };
  let best: { name: string; spec: OptionSpec } | null = null;
  for (const [name, spec] of EXACT_OPTIONS) {
    if (spec.style !== "joined-or-separate" && spec.style !== "separate") continue;
    if (arg.startsWith(name) && arg.length > name.length && (best === null || name.length > best.name.length)) best = { name, spec };
  }
  if (best !== null) return best;
  for (const [prefix, spec] of PREFIX_OPTIONS) if (arg.startsWith(prefix)) return { name: prefix, spec };
  return null;
}

test("lookupOption finds what a scan of the option tables finds, for every spelling", () => {
  const words = new Set<string>(["", "-", "--", "x.c", "/abs/x.c", "-I", "-Ifoo", "-isystemfoo", "-MFx", "-MTx", "-MQ$x", "-Wl,-z", "-Wp,-Ifoo"]);
  const tails = ["", "x", "=1", "/path/to/dir", "-", ",a,b", "foo.h"];
  for (const name of [...EXACT_OPTIONS.keys(), ...PREFIX_OPTIONS.map(([p]) => p)]) {
    for (const t of tails) words.add(name + t);
    // Every shorter head of the name too: where one option's name is another's prefix.
    for (let n = 1; n < name.length; n++) words.add(name.slice(0, n));
  }
  const differing = [...words].filter((w) => JSON.stringify(lookupOption(w)) !== JSON.stringify(byScan(w)));
  expect(differing).toEqual([]);
  expect(words.size).toBeGreaterThan(1000);
});
