// Known-answer vectors: a change to key composition must change these on purpose
// (and bump KEY_FORMAT when old entries would otherwise be misread).
import { expect, test } from "bun:test";
import { classifyCc } from "../compilers/cc/args.ts";
import { ccJobs, ccKeyFields } from "../compilers/cc/plan.ts";
import { cacheKey, KEY_FORMAT } from "./key.ts";

test("the key format tag", () => {
  expect(KEY_FORMAT).toBe("zccache-key-v1");
});

test("fields are delimited: moving a boundary changes the key", () => {
  const a = cacheKey("cc", [{ name: "compiler", value: "abc" }, { name: "args", value: ["-c", "a.c"] }]);
  const b = cacheKey("cc", [{ name: "compiler", value: "abc" }, { name: "args", value: ["-c a", ".c"] }]);
  expect<string>(a).toBe("653a8430dd036e8c38c1afe22c6ecee484ca2249b66328c2b6fed3fff3cc737f");
  expect<string>(b).toBe("17bf29b8239e5753fe4f8534a5982481cb17b6252216e5c3659138e762ba704a");
});

test("C/C++ key composition vector", () => {
  const c = classifyCc(["-O2", "-Iinc", "-c", "m.c", "-o", "m.o"]);
  if (c.kind !== "compile") throw new Error("expected compile");
  const job = ccJobs(c.inv, "/build")[0];
  if (job === undefined) throw new Error("no job");
  const inputs = {
    compilerHash: "c".repeat(64),
    invokedName: "gcc",
    cwd: "/build",
    env: { PATH: "/usr/bin", LANG: "C.UTF-8", CPATH: "/x" },
    colorMode: "pipe" as const,
    sourceHash: "s".repeat(64),
  };
  expect<string>(cacheKey("cc", ccKeyFields(job, inputs))).toBe(
    "578c91a1a2c3cac2d40502ed8df22dba636760b39c7d912d2600e2b9cf1e512c",
  );
  // PATH is not an input; CPATH is.
  expect(cacheKey("cc", ccKeyFields(job, { ...inputs, env: { ...inputs.env, PATH: "/other" } }))).toBe(
    cacheKey("cc", ccKeyFields(job, inputs)),
  );
  expect(cacheKey("cc", ccKeyFields(job, { ...inputs, env: { ...inputs.env, CPATH: "/y" } }))).not.toBe(
    cacheKey("cc", ccKeyFields(job, inputs)),
  );
  // The programs the driver runs (the assembler gcc finds on PATH) are inputs; none: no field.
  expect(cacheKey("cc", ccKeyFields(job, { ...inputs, tools: [] }))).toBe(cacheKey("cc", ccKeyFields(job, inputs)));
  expect(cacheKey("cc", ccKeyFields(job, { ...inputs, tools: ["as=1"] }))).not.toBe(
    cacheKey("cc", ccKeyFields(job, { ...inputs, tools: ["as=2"] })),
  );
});
