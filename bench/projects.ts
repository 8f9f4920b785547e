// Projects for the clean-rebuild benchmark: a generated 50-file C library + program, lz4
// (third-party C, sources from the npm registry's lz4 package, built with its own Makefiles) and
// libuv (third-party C built with CMake, sources from Debian's source package). Sources are
// fetched at bench time into bench/work/ (git-ignored) and built in the bench's temp dir, each
// tool in the same directory, so paths that reach the objects are the same for every tool.
import * as fs from "node:fs";
import * as path from "node:path";

export interface Project {
  readonly name: string;
  readonly dir: string;
  /**
   * Run once per tool before its first build (CMake's configure step, not measured); the
   * launcher is "" for the bare compiler.
   */
  readonly configure?: (launcher: string) => string;
  /**
   * With `configure`: points the configured tree at another launcher, keeping what it has
   * built ("" for the bare compiler). The rounds switch tools with it (not measured).
   */
  readonly relaunch?: (launcher: string) => string;
  /** make arguments that build everything, given CC and AR (ignored by CMake projects). */
  readonly build: (cc: string, ar: string) => string;
  readonly clean: string;
  /** Measured runs per tool when fewer than the bench's default keep the run short. */
  readonly runs?: number;
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
    // Its one multi-source compile is ~10-25 s for bare, ccache and sccache alike.
    runs: 3,
    check: "sh -c 'printf hello-benchmark | ./programs/lz4 -c | ./programs/lz4 -dc'",
    objects: () => listObjects(src),
  };
}

/**
 * Downloads a Debian bookworm source package into cacheDir/debian with a private apt
 * configuration (its own sources.list, lists and cache under cacheDir/apt): the machine's apt
 * setup is neither read for sources nor changed. Returns the .dsc, or null when offline.
 */
export function debianSource(pkg: string, cacheDir: string): string | null {
  const srcDir = path.join(cacheDir, "debian");
  const find = (): string | null => {
    if (!fs.existsSync(srcDir)) return null;
    const dsc = fs.readdirSync(srcDir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".dsc"));
    return dsc === undefined ? null : path.join(srcDir, dsc);
  };
  const have = find();
  if (have !== null) return have;
  const apt = path.join(cacheDir, "apt");
  for (const d of ["lists/partial", "cache/archives/partial", "empty", "../debian"]) fs.mkdirSync(path.join(apt, d), { recursive: true });
  fs.writeFileSync(path.join(apt, "sources.list"), "deb-src http://deb.debian.org/debian bookworm main\n");
  const opts = [
    `Dir::Etc::SourceList=${path.join(apt, "sources.list")}`,
    `Dir::Etc::SourceParts=${path.join(apt, "empty")}`,
    `Dir::State::Lists=${path.join(apt, "lists")}`,
    `Dir::Cache=${path.join(apt, "cache")}`,
  ].flatMap((o) => ["-o", o]);
  const run = (args: string[]): boolean =>
    Bun.spawnSync(["apt-get", "-q", ...opts, ...args], { cwd: srcDir, stdout: "pipe", stderr: "pipe" }).exitCode === 0;
  if (!run(["update"]) || !run(["source", "--download-only", pkg])) return null;
  return find();
}

/**
 * Debian bookworm's libuv1 sources unpacked into root/libuv (fetched into cacheDir when not
 * there yet); null when they cannot be fetched or unpacked.
 */
export function libuvSources(root: string, cacheDir: string, name = "libuv"): { dir: string; version: string } | null {
  const dsc = debianSource("libuv1", cacheDir);
  if (dsc === null) return null;
  const version = /_([^_]+)\.dsc$/.exec(dsc)?.[1] ?? "?";
  const dir = path.join(root, name);
  // dpkg-source applies Debian's patches, as `apt-get source` would.
  if (Bun.spawnSync(["dpkg-source", "-q", "-x", dsc, dir], { cwd: root, stdout: "pipe", stderr: "pipe" }).exitCode !== 0) return null;
  return { dir, version };
}

/**
 * libuv from Debian bookworm's libuv1 source package, configured with CMake (Release), for
 * CMake's Makefile generator (run with `make -j2`) or for Ninja (`ninja -j2`, in its own copy of
 * the sources). Ninja runs with `-d keepdepfile`: it otherwise deletes each depfile once read,
 * and the floor (instant-cache) copies depfiles from the bare build's.
 */
export function libuvProject(root: string, cacheDir: string, generator: "make" | "ninja" = "make"): Project | null {
  const ninja = generator === "ninja";
  const sources = libuvSources(root, cacheDir, ninja ? "libuv-ninja" : "libuv");
  if (sources === null) return null;
  const { dir, version } = sources;
  const check = path.join(root, ninja ? "uvcheck-ninja" : "uvcheck");
  fs.writeFileSync(
    `${check}.c`,
    `#include <stdio.h>
#include <uv.h>
static int fired;
static long sum;
static void on_timer(uv_timer_t *t) { fired++; uv_close((uv_handle_t *)t, NULL); }
static void on_work(uv_work_t *w) { (void)w; for (long i = 1; i <= 1000; i++) sum += i; }
static void after_work(uv_work_t *w, int status) { (void)w; printf("work %ld status %d\\n", sum, status); }
int main(void) {
  uv_loop_t loop;
  uv_timer_t t;
  uv_work_t w;
  uv_loop_init(&loop);
  uv_timer_init(&loop, &t);
  uv_timer_start(&t, on_timer, 5, 0);
  uv_queue_work(&loop, &w, on_work, after_work);
  uv_run(&loop, UV_RUN_DEFAULT);
  printf("timer %d, libuv %s\\n", fired, uv_version_string());
  return uv_loop_close(&loop);
}
`,
  );
  return {
    name: `libuv (third-party C, CMake${ninja ? " + Ninja" : ""}, Debian libuv1 ${version} sources)`,
    dir,
    configure: (launcher) =>
      `rm -rf build && cmake -S . -B build -G '${ninja ? "Ninja" : "Unix Makefiles"}' -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DCMAKE_C_COMPILER=gcc` +
      (launcher === "" ? "" : ` -DCMAKE_C_COMPILER_LAUNCHER=${launcher}`) +
      " >/dev/null",
    relaunch: (launcher) =>
      (launcher === "" ? "cmake -U CMAKE_C_COMPILER_LAUNCHER build" : `cmake -D CMAKE_C_COMPILER_LAUNCHER=${launcher} build`) + " >/dev/null",
    // The default target: the shared and the static library, each source compiled for both.
    build: () => (ninja ? "ninja -j2 -d keepdepfile -C build >/dev/null" : "make -s -j2 -C build"),
    clean: ninja ? "ninja -C build clean >/dev/null" : "make -s -C build clean",
    // Built bare from the freshly built static library, outside the tree the objects are compared in.
    check: `gcc -O2 -Iinclude ${check}.c build/libuv_a.a -lpthread -ldl -o ${check} && ${check}`,
    objects: () => listObjects(path.join(dir, "build")),
  };
}
