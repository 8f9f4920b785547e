// Known-answer vectors: a change to key composition must change these on purpose
// (and bump KEY_FORMAT when old entries would otherwise be misread).
import { expect, test } from "bun:test";
import { classifyCc } from "../compilers/cc/args.ts";
import { ccJobs, ccKeyFields } from "../compilers/cc/plan.ts";
import { keyMode, NO_RELOCATION, portableArgs } from "../compilers/cc/relocate.ts";
import { cacheKey, KEY_FORMAT } from "./key.ts";

test("the key format tag", () => {
  expect(KEY_FORMAT).toBe("zccache-key-v4");
});

test("fields are delimited: moving a boundary changes the key", () => {
  const a = cacheKey("cc", [{ name: "compiler", value: "abc" }, { name: "args", value: ["-c", "a.c"] }]);
  const b = cacheKey("cc", [{ name: "compiler", value: "abc" }, { name: "args", value: ["-c a", ".c"] }]);
  expect<string>(a).toBe("c237002e9f8a63282ebc38003782272af4ccc859b010215f184591461be01bf8");
  expect<string>(b).toBe("66931f5dbfb09ae8b27ce83e293608d76fcbafbd1473e242d97b30f639fd1c5d");
});

test("C/C++ key composition vector", () => {
  const c = classifyCc(["-O2", "-Iinc", "-c", "m.c", "-o", "m.o"]);
  if (c.kind !== "compile") throw new Error("expected compile");
  const job = ccJobs(c.inv, "/build")[0];
  if (job === undefined) throw new Error("no job");
  const mode = keyMode(job.args, NO_RELOCATION);
  const inputs = {
    compilerHash: "c".repeat(64),
    invokedName: "gcc",
    args: portableArgs(job.args, "/build", NO_RELOCATION, mode),
    cwd: mode.locationBound ? "/build" : null,
    remap: false,
    env: { PATH: "/usr/bin", LANG: "C.UTF-8", CPATH: "/x" },
    colorMode: "pipe" as const,
    sourceHash: "s".repeat(64),
  };
  expect<string>(cacheKey("cc", ccKeyFields(inputs))).toBe(
    "1c3889b9415ffb8b42c6984ef8559f878575a8befb3798a4574ae6fc9c4efd75",
  );
  // PATH is not an input; CPATH is.
  expect(cacheKey("cc", ccKeyFields({ ...inputs, env: { ...inputs.env, PATH: "/other" } }))).toBe(
    cacheKey("cc", ccKeyFields(inputs)),
  );
  expect(cacheKey("cc", ccKeyFields({ ...inputs, env: { ...inputs.env, CPATH: "/y" } }))).not.toBe(
    cacheKey("cc", ccKeyFields(inputs)),
  );
  // The programs the driver runs (the assembler gcc finds on PATH) are inputs; none: no field.
  expect(cacheKey("cc", ccKeyFields({ ...inputs, tools: [] }))).toBe(cacheKey("cc", ccKeyFields(inputs)));
  expect(cacheKey("cc", ccKeyFields({ ...inputs, tools: ["as=1"] }))).not.toBe(
    cacheKey("cc", ccKeyFields({ ...inputs, tools: ["as=2"] })),
  );
  // Without debug info or coverage the cwd and the output's name are not inputs.
  expect(inputs.cwd).toBeNull();
  expect(inputs.args).toEqual(["-O2", "-Iinc", "-c", "m.c", "-o"]);
});
