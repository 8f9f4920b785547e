// Projects for the clean-rebuild benchmark: a generated 50-file C library + program, and lz4
// (third-party C, sources from the npm registry's lz4 package, built with its own Makefiles).
import * as fs from "node:fs";
import * as path from "node:path";

export interface Project {
  readonly name: string;
  readonly dir: string;
  /** make arguments that build everything, given CC and AR. */
  readonly build: (cc: string, ar: string) => string;
  readonly clean: string;
  /** Runs the built program; its output must not change between tools. */
  readonly check: string;
  /** Object files to compare with the bare build. */
  readonly objects: () => string[];
}

function listObjects(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".o")) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

export function generatedProject(root: string, files = 50): Project {
  const dir = path.join(root, "gen50");
  fs.mkdirSync(path.join(dir, "src"), { recursive: true });
  fs.mkdirSync(path.join(dir, "include"), { recursive: true });
  const decls: string[] = [];
  for (let i = 0; i < files; i++) {
    decls.push(`int gen_${i}(int x);`);
    fs.writeFileSync(
      path.join(dir, "src", `f${i}.c`),
      `#include <stdio.h>\n#include <string.h>\n#include <stdlib.h>\n#include "gen.h"\n` +
        `static const int table_${i}[64] = {${Array.from({ length: 64 }, (_, k) => (k * 7 + i) % 101).join(",")}};\n` +
        `int gen_${i}(int x) { int s = 0; for (int k = 0; k < 64; k++) s += table_${i}[k] * (x + k); char b[32]; snprintf(b, sizeof b, "%d", s); return (int)strlen(b) + s % 97 + GEN_BASE; }\n`,
    );
  }
  fs.writeFileSync(path.join(dir, "include", "gen.h"), `#define GEN_BASE 3\n${decls.join("\n")}\n`);
  fs.writeFileSync(
    path.join(dir, "src", "main.c"),
    `#include <stdio.h>\n#include "gen.h"\nint main(void) { long t = 0;\n${Array.from({ length: files }, (_, i) => `  t += gen_${i}(${i});`).join("\n")}\n  printf("%ld\\n", t); return 0; }\n`,
  );
  fs.writeFileSync(
    path.join(dir, "Makefile"),
    [
      "CC ?= cc",
      "AR ?= ar",
      "CFLAGS = -O2 -Wall -Iinclude",
      `LIBOBJS = ${Array.from({ length: files }, (_, i) => `src/f${i}.o`).join(" ")}`,
      "prog: src/main.o libgen.a",
      "\t$(CC) -o $@ src/main.o libgen.a",
      "libgen.a: $(LIBOBJS)",
      "\t$(AR) rcsD $@ $(LIBOBJS)",
      "src/%.o: src/%.c include/gen.h",
      "\t$(CC) $(CFLAGS) -c $< -o $@",
      "clean:",
      "\trm -f prog libgen.a src/*.o",
      "",
    ].join("\n"),
  );
  return {
    name: "generated 50-file C project",
    dir,
    build: (cc, ar) => `make -s -j2 CC="${cc}" AR="${ar}"`,
    clean: "make -s clean",
    check: "./prog",
    objects: () => listObjects(dir),
  };
}

/** lz4 1.9.x sources as vendored by the npm package lz4@0.6.5 (fetched with npm pack). */
export function lz4Project(root: string, cacheDir: string): Project | null {
  const tgz = path.join(cacheDir, "lz4-0.6.5.tgz");
  if (!fs.existsSync(tgz)) {
    fs.mkdirSync(cacheDir, { recursive: true });
    const r = Bun.spawnSync(["npm", "pack", "lz4@0.6.5", "--silent"], { cwd: cacheDir, stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0 || !fs.existsSync(tgz)) return null;
  }
  const dir = path.join(root, "lz4");
  fs.mkdirSync(dir, { recursive: true });
  if (Bun.spawnSync(["tar", "xzf", tgz, "-C", dir]).exitCode !== 0) return null;
  const src = path.join(dir, "package", "deps", "lz4");
  return {
    name: "lz4 (third-party C, npm lz4@0.6.5 sources)",
    dir: src,
    // MOREFLAGS keeps lz4's own flags; BUILD_SHARED=no keeps the build to archive + program.
    build: (cc, ar) => `make -s -j2 -C programs lz4 CC="${cc}" AR="${ar}" && make -s -C lib liblz4.a BUILD_SHARED=no CC="${cc}" AR="${ar}"`,
    clean: "make -s -C programs clean >/dev/null && make -s -C lib clean >/dev/null",
    check: "sh -c 'printf hello-benchmark | ./programs/lz4 -c | ./programs/lz4 -dc'",
    objects: () => listObjects(src),
  };
}
