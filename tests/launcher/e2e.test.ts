// The native launcher in front of the real daemon and real gcc: a miss through zccache-core
// (which starts the daemon) in symlink mode, then hits served by the launcher alone — its
// zccache-core swapped for a stand-in that compiles nothing — byte-identical to bare gcc.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, run, tempDir } from "../helpers.ts";
import { BUILDS, buildFixtures, LAUNCHER_DIR, SANITIZER_ENV, sanitizerReport } from "./scripted.ts";

let fx: ReturnType<typeof buildFixtures>;
const dirs: string[] = [];
beforeAll(() => {
  fx = buildFixtures();
});
afterAll(() => {
  CacheEnv.stopAll();
  for (const d of [fx.dir, ...dirs]) fs.rmSync(d, { recursive: true, force: true });
});

const SOURCE = "int answer(int x) { return x * 42; }\n";

for (const build of BUILDS) {
  describe(path.basename(build), () => {
    test("gcc through the launcher: symlink-mode miss, then launcher-only hits identical to bare", () => {
      const dir = tempDir("zc-launcher-e2e-");
      dirs.push(dir);
      const launcher = path.join(dir, "zccache");
      fs.copyFileSync(build, launcher);
      fs.chmodSync(launcher, 0o755);
      const core = path.join(dir, "zccache-core");
      const useRealCore = (): void => {
        fs.rmSync(core, { force: true });
        fs.symlinkSync(path.join(LAUNCHER_DIR, "zccache-core"), core);
      };
      const bin = path.join(dir, "bin");
      fs.mkdirSync(bin);
      const linkGcc = path.join(bin, "gcc");
      fs.symlinkSync(launcher, linkGcc);
      const c = new CacheEnv(SANITIZER_ENV);
      const linkPath = { PATH: `${bin}:${process.env.PATH}` };
      const src = c.write("a.c", SOURCE);
      // Older than the racy window, or the miss would rightly refuse to store.
      const old = new Date(Date.now() - 10_000);
      fs.utimesSync(src, old, old);
      const realGcc = Bun.which("gcc", { PATH: process.env.PATH ?? "" });
      expect(realGcc).not.toBeNull();
      expect(bare([realGcc ?? "gcc", "-c", "a.c", "-o", "bare.o"], c.work).code).toBe(0);
      const compile = (argv: string[], env: Record<string, string> = {}): void => {
        fs.rmSync(path.join(c.work, "a.o"), { force: true });
        const r = run([...argv, "-c", "a.c", "-o", "a.o"], { cwd: c.work, env: { ...c.env, ...env } });
        expect(sanitizerReport(r)).toBeNull();
        expect(r.out + r.err).toBe("");
        expect(r.code).toBe(0);
        expect(c.read("a.o").equals(c.read("bare.o"))).toBe(true);
      };

      useRealCore();
      // No daemon yet: the core runs in symlink mode and must skip the launcher on PATH, else
      // the daemon would take the launcher for gcc (and the hits below would miss).
      compile([linkGcc], linkPath);
      compile([linkGcc], { ...linkPath, ZCCACHE_DISABLE: "1" });
      // From here on a hand-over would print CORE instead of compiling: only the launcher can hit.
      fs.rmSync(core);
      fs.copyFileSync(fx.core, core);
      compile([launcher, "gcc"]);
      compile([linkGcc], linkPath);

      useRealCore();
      const s = c.status();
      expect([s.hits, s.misses]).toEqual([2, 1]);
    });
  });
}
