// Installing like any npm CLI: `npm pack` of this checkout, `npm install -g` of the tarball
// into a temporary prefix, a compile through the installed `zccache` (miss, then a hit
// byte-identical to bare gcc) served by a daemon from that prefix, `zccache stop`, and
// `npm uninstall -g` leaving nothing on PATH. The Bun runtime comes from npm's cache that
// `npm ci` filled (--prefer-offline: only package metadata may come from the registry).
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { bare, CacheEnv, REPO_ROOT, requireTool, run, type RunResult, type Status, tempDir } from "../helpers.ts";
import { expectOk, expectSameBytes } from "../assertions.ts";

const env = new CacheEnv();
afterAll(() => CacheEnv.stopAll());

/** What `npm pack --json` says about the tarball. */
interface Packed {
  readonly filename: string;
  readonly size: number;
  readonly files: readonly { readonly path: string }[];
}

const base = tempDir("zc-install-");
// npm's and the install step's temporary files stay in our temp dir.
const npmTmp = path.join(base, "tmp");
fs.mkdirSync(npmTmp);

/** The environment for npm: none of the npm_* variables of an enclosing `npm test`. */
function npmEnv(): Record<string, string | undefined> {
  const e: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) e[k] = v;
  return { ...e, TMPDIR: npmTmp, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };
}

function npm(args: readonly string[], cwd: string): RunResult {
  return run(["npm", ...args], { cwd, env: npmEnv() });
}

/** `npm install -g` of the tarball into `prefix` (scripts allowed explicitly, as the README says). */
function installInto(prefix: string, tgz: string, extra: readonly string[] = []): RunResult {
  const allow = ["--strict-allow-scripts", `--allow-scripts=bun,${tgz}`];
  // npm 11's --strict-allow-scripts check fails with ENOENT on a prefix without lib/.
  fs.mkdirSync(path.join(prefix, "lib"), { recursive: true });
  return npm(["install", "-g", "--prefix", prefix, "--prefer-offline", ...allow, ...extra, tgz], base);
}

function uninstallFrom(prefix: string): RunResult {
  return npm(["uninstall", "-g", "--prefix", prefix, "zccache"], base);
}

let tarball: string | null = null;

/** Packs this checkout once for the file. */
function pack(): string {
  if (tarball !== null) return tarball;
  const dest = path.join(base, "pack");
  fs.mkdirSync(dest);
  const r = expectOk(npm(["pack", "--json", "--pack-destination", dest], REPO_ROOT), "npm pack");
  const [info] = JSON.parse(r.out) as Packed[];
  if (info === undefined) throw new Error(`npm pack printed no tarball: ${r.out}`);
  const files = info.files.map((f) => f.path);
  expect(files).toContain("bin/zccache");
  expect(files).toContain("scripts/postinstall.js");
  expect(files).toContain("scripts/build.sh");
  expect(files).toContain("src/main.ts");
  expect(files).toContain("src/launcher/launcher.c");
  // No build output, tests or development files: the install step builds dist/.
  expect(files.filter((f) => f.startsWith("dist/") || f.startsWith("tests/") || f.startsWith("node_modules/") || f.endsWith(".test.ts"))).toEqual([]);
  expect(info.size).toBeLessThan(1024 * 1024);
  tarball = path.join(dest, info.filename);
  return tarball;
}

/** The installed command's environment: the prefix's bin first, this file's cache root. */
function userEnv(prefix: string): Record<string, string | undefined> {
  const e: Record<string, string | undefined> = { ...env.env, PATH: `${path.join(prefix, "bin")}:${process.env.PATH ?? ""}` };
  delete e.ZCCACHE_DAEMON_BIN;
  return e;
}

function zccache(prefix: string, args: readonly string[], cwd: string): RunResult {
  // By name, as a user would: found on PATH in the prefix's bin.
  return run(["zccache", ...args], { cwd, env: userEnv(prefix) });
}

function status(prefix: string): Status {
  return JSON.parse(expectOk(zccache(prefix, ["status", "--json"], env.work), "zccache status --json").out) as Status;
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

describe("npm install -g of the packed tarball", () => {
  test("pack, install, compile (miss then hit, same bytes as gcc), stop, uninstall", () => {
    if (!requireTool("npm", "the npm install round trip") || !requireTool("gcc", "the npm install round trip")) return;
    const tgz = pack();
    const prefix = path.join(base, "prefix");
    expectOk(installInto(prefix, tgz), "npm install -g");

    const pkg = path.join(prefix, "lib", "node_modules", "zccache");
    const bin = path.join(prefix, "bin", "zccache");
    // The command on PATH is the native launcher (a C compiler is here), the core beside it.
    expect(fs.realpathSync(bin)).toBe(fs.realpathSync(path.join(pkg, "dist", "zccache")));
    expect(fs.existsSync(path.join(pkg, "dist", "zccache-core"))).toBe(true);
    expect(fs.statSync(bin).size).toBeLessThan(1024 * 1024);

    const dir = env.mkdir("round-trip");
    fs.writeFileSync(path.join(dir, "x.c"), "static int twice(int v) { return v * 2; }\nint answer(int x) { return twice(x) + 42; }\n");
    const ref = path.join(dir, "ref.o");
    expectOk(bare(["gcc", "-c", "x.c", "-o", ref], dir), "bare gcc");

    expectOk(zccache(prefix, ["gcc", "-c", "x.c", "-o", "x.o"], dir), "first compile");
    const first = status(prefix);
    expect({ hits: first.hits, misses: first.misses, errors: first.errors }).toEqual({ hits: 0, misses: 1, errors: 0 });
    expectSameBytes(fs.readFileSync(path.join(dir, "x.o")), fs.readFileSync(ref), "miss object");

    fs.rmSync(path.join(dir, "x.o"));
    expectOk(zccache(prefix, ["gcc", "-c", "x.c", "-o", "x.o"], dir), "second compile");
    const second = status(prefix);
    expect({ hits: second.hits, misses: second.misses, errors: second.errors }).toEqual({ hits: 1, misses: 1, errors: 0 });
    expectSameBytes(fs.readFileSync(path.join(dir, "x.o")), fs.readFileSync(ref), "hit object");

    // The daemon is the installed program, not anything of this checkout.
    expect(fs.realpathSync(`/proc/${second.pid}/exe`)).toBe(fs.realpathSync(path.join(pkg, "dist", "zccache-core")));
    expectOk(zccache(prefix, ["stop"], dir), "zccache stop");
    expect(env.daemonPids()).toEqual([]);

    expectOk(uninstallFrom(prefix), "npm uninstall -g");
    expect(exists(bin)).toBe(false);
    expect(exists(pkg)).toBe(false);
  });

  test("when npm skipped the install script, the command says how to build it, and that works", () => {
    if (!requireTool("npm", "the --ignore-scripts install") || !requireTool("gcc", "the --ignore-scripts install")) return;
    const tgz = pack();
    const prefix = path.join(base, "prefix-no-scripts");
    expectOk(installInto(prefix, tgz, ["--ignore-scripts"]), "npm install -g --ignore-scripts");
    const pkg = path.join(prefix, "lib", "node_modules", "zccache");

    const before = zccache(prefix, ["version"], env.work);
    expect(before.code).toBe(127);
    expect(before.err).toContain(`node "${pkg}/scripts/postinstall.js"`);

    // bun's own install script did not run either: the build finds Bun in its platform package.
    expectOk(run(["node", path.join(pkg, "scripts", "postinstall.js")], { cwd: base, env: npmEnv() }), "postinstall.js");
    const after = expectOk(zccache(prefix, ["version"], env.work), "zccache version");
    expect(after.out).toContain(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")).version);

    expectOk(uninstallFrom(prefix), "npm uninstall -g");
    expect(exists(path.join(prefix, "bin", "zccache"))).toBe(false);
  });
});
