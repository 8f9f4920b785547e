import { expect, test } from "bun:test";
import { classifyCc } from "../compilers/cc/args.ts";
import { ccJobs } from "../compilers/cc/plan.ts";
import type { CcFamily } from "../compilers/family.ts";
import { scratchPlan, type ScratchPlan } from "./cc-verify.ts";

const DIR = "/scratch/v1";
const CWD = "/work";

/** The plan for a compile of `args`; `unchecked` is appended after classification (what it would refuse). */
function planFor(args: readonly string[], family: CcFamily = "gcc", remap = false, unchecked: readonly string[] = []): ScratchPlan {
  const cls = classifyCc(args, family);
  if (cls.kind !== "compile") throw new Error(`not a compile: ${cls.reason}`);
  const [job] = ccJobs(cls.inv, CWD);
  if (job === undefined) throw new Error("no job");
  return scratchPlan(
    {
      job: { ...job, args: [...job.args, ...unchecked] },
      inv: cls.inv,
      family,
      terminal: { colorMode: "pipe", messageLength: null, caretColumns: null },
      relocation: { baseDirs: [], remap },
      compilerPath: "/usr/bin/gcc",
      cwd: CWD,
      env: {},
    },
    DIR,
  );
}

function run(p: ScratchPlan): Extract<ScratchPlan, { kind: "run" }> {
  if (p.kind !== "run") throw new Error(`${p.kind}: ${p.why}`);
  return p;
}

test("the object and the user's depfile go to scratch; the depfile keeps the user's target", () => {
  const p = run(planFor(["-O2", "-c", "src/a.c", "-o", "out/a.o", "-MD", "-MF", "deps/a.d"]));
  expect(p.argv).toEqual(["/usr/bin/gcc", "-O2", "-c", "src/a.c", "-MD", "-o", `${DIR}/obj/a.o`, "-MF", `${DIR}/dep/a.d`, "-MQ", "out/a.o"]);
  expect([...p.outputs]).toEqual([
    ["object", `${DIR}/obj/a.o`],
    ["depfile", `${DIR}/dep/a.d`],
  ]);
});

test("joined output names are redirected too, and -MT/-MQ the user gave are kept", () => {
  const p = run(planFor(["-c", "a.c", "-oa.o", "-MMD", "-MFa.d", "-MT", "tgt"]));
  expect(p.argv.some((a) => a === "-oa.o" || a === "-MFa.d")).toBe(false);
  expect(p.argv.filter((a) => a === "-MQ")).toEqual([]);
  expect(p.argv).toContain("tgt");
  expect(p.outputs.get("object")).toBe(`${DIR}/obj/a.o`);
});

test("without -o the object is named into scratch; without a user depfile ours goes to scratch", () => {
  const p = run(planFor(["-c", "src/b.c"]));
  expect(p.argv).toEqual(["/usr/bin/gcc", "-c", "src/b.c", "-o", `${DIR}/obj/b.o`, "-MD", "-MF", `${DIR}/private.d`]);
  expect([...p.outputs.keys()]).toEqual(["object"]);
  expect(p.privateDepfile).toBe(`${DIR}/private.d`);
});

test("ZCCACHE_PATH_REMAP: the run gets the prefix maps the miss got", () => {
  const p = run(planFor(["-g", "-c", "a.c", "-o", "a.o"], "gcc", true));
  expect(p.argv.some((a) => a.startsWith(`-ffile-prefix-map=${CWD}=`))).toBe(true);
});

test("output names inside the outputs, pass-throughs that may write, and emcc are not run", () => {
  for (const args of [
    ["-gsplit-dwarf", "-g", "-c", "a.c", "-o", "a.o"],
    ["--coverage", "-c", "a.c", "-o", "a.o"],
    ["-fstack-usage", "-c", "a.c", "-o", "a.o"],
  ]) {
    expect({ args, kind: planFor(args).kind }).toEqual({ args, kind: "not-verifiable" });
  }
  // Pass-throughs that write files (the classifier refuses them; the plan does not rely on it).
  for (const unchecked of [["-Wp,-MD,a.d"], ["-Wa,-adhln=a.lst"], ["-Xpreprocessor", "-MF"], ["-Xclang", "-o"]]) {
    expect({ unchecked, kind: planFor(["-c", "a.c", "-o", "a.o"], "gcc", false, unchecked).kind }).toEqual({ unchecked, kind: "not-verifiable" });
  }
  expect(planFor(["-c", "a.c", "-o", "a.o", "-Wa,--noexecstack", "-Wp,-D_FORTIFY_SOURCE=2"]).kind).toBe("run");
  expect(planFor(["-c", "a.c", "-o", "a.o"], "emcc")).toEqual({ kind: "unsupported", why: "emcc compiles are not verified yet" });
});
