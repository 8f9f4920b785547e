// Known-answer vectors: a change to key composition must change these on purpose
// (and bump KEY_FORMAT when old entries would otherwise be misread).
import { expect, test } from "bun:test";
import { classifyCc } from "../compilers/cc/args.ts";
import { ccJobs, ccKeyFields } from "../compilers/cc/plan.ts";
import { keyMode, NO_RELOCATION, portableArgs } from "../compilers/cc/relocate.ts";
import { cacheKey, KEY_FORMAT } from "./key.ts";

test("the key format tag", () => {
  expect(KEY_FORMAT).toBe("zccache-key-v2");
});

test("fields are delimited: moving a boundary changes the key", () => {
  const a = cacheKey("cc", [{ name: "compiler", value: "abc" }, { name: "args", value: ["-c", "a.c"] }]);
  const b = cacheKey("cc", [{ name: "compiler", value: "abc" }, { name: "args", value: ["-c a", ".c"] }]);
  expect<string>(a).toBe("657aa07e63528f4faaf92b1f753e8f1843bc3365f385bcf7dac04b7601fe567e");
  expect<string>(b).toBe("4fb07f18e6cfff2c54517d9d14d5bd70691fe8b080cb9bac5d9b29387ed8d539");
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
    "a25a7c7b9a3cf5f1a40d422504d863d35724783720f23ed71bbb1ff316267b5f",
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
