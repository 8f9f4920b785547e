// Known-answer vector for link keys: a change to their composition must change it on purpose.
import { expect, test } from "bun:test";
import { cacheKey } from "../../cache/key.ts";
import { linkKeyFields, type LinkKeyInputs } from "./key.ts";

const inputs: LinkKeyInputs = {
  toolHash: "t".repeat(64),
  invokedName: "gcc",
  kind: "link",
  cwd: "/build",
  args: ["a.o", "-L.", "-lx", "-o", "prog"],
  env: { PATH: "/usr/bin", LIBRARY_PATH: "/opt/lib" },
  inputs: [{ path: "/build/a.o", hash: "a".repeat(64) }],
  priorOutput: "",
  deployCmd: "",
};

test("link key composition vector", () => {
  expect<string>(cacheKey("link", linkKeyFields(inputs))).toBe("d72b7650cbd2a97137e7507e0a8428ea7d39720d9402ab62b1c146c000c0475a");
  // PATH is not an input; LIBRARY_PATH, the deploy hook and an input's content are.
  const same = cacheKey("link", linkKeyFields({ ...inputs, env: { ...inputs.env, PATH: "/other" } }));
  expect(same).toBe(cacheKey("link", linkKeyFields(inputs)));
  for (const changed of [
    { ...inputs, env: { ...inputs.env, LIBRARY_PATH: "/x" } },
    { ...inputs, deployCmd: "strip" },
    { ...inputs, inputs: [{ path: "/build/a.o", hash: "b".repeat(64) }] },
    { ...inputs, priorOutput: "absent" },
  ]) {
    expect(cacheKey("link", linkKeyFields(changed))).not.toBe(cacheKey("link", linkKeyFields(inputs)));
  }
});
