// The depfile writer models against the real gcc and clang: a template made in one tree must
// render, for another tree and other targets, exactly what the compiler writes there.
import { afterAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { depfileTargets, depfileTemplate, quoteTarget, renderDepfile } from "./depfile-template.ts";

const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "zc-deptpl-")));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

function tree(name: string): string {
  const root = path.join(base, name);
  const inc = path.join(root, "include-with-a-rather-long-directory-name", "sub");
  fs.mkdirSync(inc, { recursive: true });
  fs.mkdirSync(path.join(root, "build", "CMakeFiles", "target.dir"), { recursive: true });
  fs.mkdirSync(path.join(root, "src"), { recursive: true });
  const includes: string[] = [];
  for (let i = 1; i <= 6; i++) {
    fs.writeFileSync(path.join(inc, `header_number_${i}.h`), `#define H${i} ${i}\n`);
    includes.push(`#include "header_number_${i}.h"`);
  }
  fs.writeFileSync(path.join(root, "src", "b.c"), `${includes.join("\n")}\n#include <stdio.h>\nint f(void) { return H1; }\n`);
  return root;
}

const one = tree("c1");
const two = tree("checkout-number-two");

function compile(cc: string, root: string, extra: readonly string[], out: string): { text: string; args: string[] } {
  const cwd = path.join(root, "build");
  const args = ["-c", path.join(root, "src", "b.c"), `-I${path.join(root, "include-with-a-rather-long-directory-name", "sub")}`, ...extra, "-MF", "t.d", "-o", out];
  execFileSync(cc, args, { cwd });
  return { text: fs.readFileSync(path.join(cwd, "t.d"), "utf8"), args };
}

describe("depfile templates", () => {
  for (const cc of ["gcc", "clang"]) {
    for (const extra of [["-MD"], ["-MD", "-MP"], ["-MMD"], ["-MD", "-MT", "CMakeFiles/target.dir/b.c.o"], ["-MD", "-MQ", "a b$c.o"], ["-MD", "-MT", "x", "-MT", "a-rather-long-second-target-name-that-goes-on-for-a-while.o"]]) {
      test(`${cc} ${extra.join(" ")}: made in one tree, rendered for another`, () => {
        const style = cc === "gcc" ? "gcc" : "clang";
        const a = compile(cc, one, extra, "CMakeFiles/target.dir/b.c.o");
        const tpl = depfileTemplate(a.text, style, depfileTargets(a.args, "CMakeFiles/target.dir/b.c.o"), path.join(one, "build"), [base]);
        expect(tpl).not.toBeNull();
        if (tpl === null) return;
        expect(tpl.deps.some((d) => d.includes(one))).toBe(false);
        const b = compile(cc, two, extra, "CMakeFiles/other.o");
        expect(renderDepfile(tpl, depfileTargets(b.args, "CMakeFiles/other.o"), path.join(two, "build"))).toBe(b.text);
      });
    }
  }

  test("a layout the model does not reproduce is not templated", () => {
    expect(depfileTemplate("b.o: b.c\n\tweird\n", "gcc", ["b.o"], "/x", [])).toBeNull();
    expect(depfileTemplate("b.o: b\\ c.c\n", "gcc", ["b.o"], "/x", [])).toBeNull();
    expect(depfileTemplate("other.o: b.c\n", "gcc", ["b.o"], "/x", [])).toBeNull();
  });

  test("targets are quoted as make needs them", () => {
    expect(quoteTarget("a b$c#d.o")).toBe("a\\ b$$c\\#d.o");
    expect(depfileTargets(["-MT", "raw $x", "-MQ", "q $x"], "o.o")).toEqual(["raw $x", "q\\ $$x"]);
    expect(depfileTargets([], "dir/x y.o")).toEqual(["dir/x\\ y.o"]);
  });
});
