#!/usr/bin/env node
// The npm package's install step (`postinstall`), run by Node when zccache is installed from
// its tarball (`npm install -g zccache-*.tgz`): builds dist/ with scripts/build.sh, using the
// Bun that npm installed as the `bun` dependency (no download of its own), without the ASan
// twin the tests use. Then bin/zccache, the file npm linked onto PATH, becomes a symlink to
// dist/zccache, so the launcher runs with no wrapper in front of it. In a development
// checkout (`npm ci`) it does nothing: `npm run build` builds there.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Installed as a dependency (global or not) rather than a checkout being set up. */
function isInstalledPackage() {
  const parent = path.dirname(root);
  const grand = path.dirname(parent);
  return path.basename(parent) === "node_modules" || path.basename(grand) === "node_modules";
}

function runs(exe, args) {
  const r = spawnSync(exe, args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * The Bun executable of the `bun` dependency. Its own postinstall moves the binary from the
 * platform package (@oven/bun-<os>-<arch>) to bun/bin/bun.exe; npm may run that script at
 * the same time as this one, or not at all, so both places are tried.
 */
function findBun() {
  const require = createRequire(path.join(root, "package.json"));
  const bunJson = require.resolve("bun/package.json");
  const bunPkg = JSON.parse(fs.readFileSync(bunJson, "utf8"));
  const fromBun = createRequire(bunJson);
  const candidates = [path.join(path.dirname(bunJson), "bin", "bun.exe")];
  for (const name of Object.keys(bunPkg.optionalDependencies ?? {})) {
    try {
      candidates.push(path.join(path.dirname(fromBun.resolve(`${name}/package.json`)), "bin", "bun"));
    } catch {
      // Not installed: another platform's package.
    }
  }
  for (const exe of candidates) {
    if (fs.existsSync(exe) && runs(exe, ["--version"]) === bunPkg.version) return exe;
  }
  return null;
}

/** A first C compiler on PATH; the user's CC may well be "zccache gcc" itself. */
function findCc() {
  for (const name of ["cc", "gcc", "clang"]) {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
      const p = path.join(dir || ".", name);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        if (fs.statSync(p).isFile()) return p;
      } catch {
        // Not here.
      }
    }
  }
  return null;
}

/** scripts/build.sh into dist/; with a `cc` that does not exist, the Bun program alone. */
function build(bun, cc) {
  const env = { ...process.env, ZCCACHE_BUILD_BUN: bun, ZCCACHE_BUILD_ASAN: "0", CC: cc };
  const r = spawnSync("bash", [path.join(root, "scripts", "build.sh"), path.join(root, "dist")], {
    cwd: root,
    env,
    stdio: ["ignore", "inherit", "inherit"],
  });
  return r.status === 0;
}

/** Points bin/zccache at dist/zccache, replacing the stand-in in one rename. */
function linkBin() {
  const bin = path.join(root, "bin", "zccache");
  const tmp = `${bin}.tmp.${process.pid}`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(path.join("..", "dist", "zccache"), tmp);
  fs.renameSync(tmp, bin);
}

function main() {
  if (!isInstalledPackage()) return 0;
  const found = findBun();
  if (found === null) {
    console.error("zccache: the Bun runtime of the `bun` dependency was not found (installed with --omit=optional?)");
    return 1;
  }
  // bun's own postinstall may rename the binary while the build runs: use a hard link to it.
  fs.mkdirSync(path.join(root, "dist"), { recursive: true });
  const pinned = path.join(root, "dist", `.bun.${process.pid}`);
  let bun = found;
  try {
    fs.linkSync(found, pinned);
    bun = pinned;
  } catch {
    // Another file system: use it where it is.
  }
  try {
    const cc = findCc();
    let ok = build(bun, cc ?? "cc");
    if (!ok && cc !== null) {
      console.error("zccache: building the native launcher failed; installing the Bun program alone");
      ok = build(bun, "/nonexistent/cc");
    }
    if (!ok) return 1;
  } finally {
    fs.rmSync(pinned, { force: true });
  }
  linkBin();
  return 0;
}

process.exit(main());
