// `zccache doctor`: what stands between this machine and a working cache, one line per check
// ("ok", "warn" or "FAIL"), each problem said in plain words with what to do about it.
// Read-only, apart from a temp file that proves the cache dir writable: it never creates the
// runtime dir or starts a daemon, and its ping does not retire an older daemon version (only
// an older wire protocol still hands over, as it would on the next compile).
import * as fs from "node:fs";
import * as path from "node:path";
import { CONFIG_FILE_NAME, type Config, loadConfig } from "../config/config.ts";
import { fileIdentity, findCompiler, isCacheWrapperName, isWrapper, type SkipRule, skipRuleFor } from "../platform/compiler-path.ts";
import { type Endpoint, endpointFor } from "../protocol/endpoint.ts";
import { chooseRuntimeDir, inspectDir } from "../protocol/runtime-dir.ts";
import { compareVersions, PRODUCT_VERSION } from "../protocol/version.ts";
import type { RemoteBackend } from "../store/remote/backend.ts";
import { type RemoteSpec, redactUrl } from "../store/remote/spec.ts";
import { lockHolderPid } from "./daemon-process.ts";
import { SELF_EXE, SELF_EXES } from "./self-exe.ts";
import { CLIENT_TIMEOUT, roundTrip } from "./transport.ts";

type Level = "ok" | "warn" | "FAIL";

interface Finding {
  readonly level: Level;
  readonly what: string;
  /** Why it matters and what to do; empty for "ok". */
  readonly detail: string;
}

const ok = (what: string): Finding => ({ level: "ok", what, detail: "" });
const warn = (what: string, detail: string): Finding => ({ level: "warn", what, detail });
const fail = (what: string, detail: string): Finding => ({ level: "FAIL", what, detail });

/** The names a build calls; a symlink dir holds links with these names. */
const COMPILERS = ["gcc", "g++", "cc", "c++", "clang", "clang++", "rustc", "emcc"] as const;
const C_COMPILERS = ["gcc", "clang", "cc"];
const GIB = 1024 ** 3;
const MIN_FREE_BYTES = GIB;
/** A remote that needs longer than this to answer one read is reported, not waited for. */
const REMOTE_PROBE_CAP_MS = 2_000;
const PING_TIMEOUT_MS = 3_000;

type Env = Readonly<Record<string, string | undefined>>;

function errCode(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" ? code : e instanceof Error ? e.message : String(e);
}

function realOrSelf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

function formatBytes(n: number): string {
  return n >= GIB ? `${(n / GIB).toFixed(1)} GiB` : `${Math.round(n / 1024 ** 2)} MiB`;
}

function pathDirs(env: Env, cwd: string): string[] {
  return (env.PATH ?? "").split(":").map((d) => path.resolve(cwd, d === "" ? "." : d));
}

/** 1. Which zccache runs, and which one a build calling `zccache` gets. */
function checkWhich(env: Env, cwd: string): { finding: Finding; onPath: string | null } {
  const self = realOrSelf(SELF_EXE);
  const onPath = findCompiler("zccache", cwd, env.PATH ?? "", null);
  if (onPath === null) {
    return {
      onPath,
      finding: warn(`zccache ${self}`, `no zccache on PATH: builds that run 'zccache gcc …' will not find it; add ${path.dirname(SELF_EXE)} to PATH`),
    };
  }
  // The same file by another name (a symlink, a hard link) is the same zccache.
  if (realOrSelf(onPath) !== self && fileIdentity(onPath) !== fileIdentity(SELF_EXE)) {
    return {
      onPath,
      finding: warn(`zccache ${self}`, `PATH finds another zccache, ${onPath}, so builds use that one; remove it or put ${path.dirname(SELF_EXE)} first`),
    };
  }
  return { onPath, finding: ok(`zccache ${self} (the one on PATH)`) };
}

/** 2. The runtime dir, by the trust rule client and daemon share (nothing is created here). */
function checkRuntimeDir(env: Env, ep: Endpoint, uid: number): { finding: Finding[]; usable: boolean } {
  const choice = chooseRuntimeDir(env, ep.cacheRoot, uid);
  const refused = choice.refused.map((r) => `${r.dir} (${r.why})`).join("; ");
  if (!choice.usable) {
    return {
      usable: false,
      finding: [
        fail(
          "runtime dir",
          `no usable directory for the daemon's socket: ${refused}. Every compile runs uncached (runtime-dir-refused). Set ZCCACHE_RUNTIME_DIR to a short path of a directory of yours with mode 0700`,
        ),
      ],
    };
  }
  const out: Finding[] = [];
  if (choice.refused.length > 0) {
    out.push(warn("runtime dir", `passed over ${refused}; using ${choice.dir}. Fix it (chmod 700, or remove it if it is not yours to use) or set ZCCACHE_RUNTIME_DIR`));
  }
  const state = inspectDir(choice.dir, uid).kind === "absent" ? "created 0700 on first use" : "private";
  out.push(ok(`runtime dir ${choice.dir} (${state}), socket ${ep.socketPath}`));
  return { finding: out, usable: true };
}

/** The nearest directory of `p` (itself or a parent) that exists. */
function existingAncestor(p: string): string {
  let d = p;
  while (!fs.existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  return d;
}

/** 3. The cache dir: there or creatable, writable, private, and room on its disk. */
function checkCacheDir(root: string, uid: number, cfg: Config | null): Finding[] {
  const out: Finding[] = [];
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(root, { throwIfNoEntry: false });
  } catch (e) {
    return [fail(`cache dir ${root}`, `cannot inspect it (${errCode(e)}); set ZCCACHE_CACHE_DIR to a directory of yours`)];
  }
  if (st === undefined) {
    const parent = existingAncestor(root);
    try {
      fs.accessSync(parent, fs.constants.W_OK | fs.constants.X_OK);
      out.push(ok(`cache dir ${root} (absent; created 0700 by the first compile)`));
    } catch (e) {
      return [fail(`cache dir ${root}`, `it does not exist and cannot be created: ${parent} is not writable (${errCode(e)}); set ZCCACHE_CACHE_DIR to a directory of yours`)];
    }
  } else if (!st.isDirectory()) {
    return [fail(`cache dir ${root}`, "it is not a directory; remove it or set ZCCACHE_CACHE_DIR elsewhere")];
  } else {
    const probe = path.join(root, `.doctor-${process.pid}-${Math.random().toString(36).slice(2)}`);
    try {
      fs.closeSync(fs.openSync(probe, "wx", 0o600));
      fs.unlinkSync(probe);
    } catch (e) {
      return [fail(`cache dir ${root}`, `cannot write in it (${errCode(e)}); every compile would run uncached. Fix its owner or permissions, or set ZCCACHE_CACHE_DIR`)];
    }
    const mode = st.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      out.push(
        warn(
          `cache dir ${root}`,
          `mode ${mode.toString(8)} lets its group or others in, and the index and journal hold whole command lines; 'chmod 700 ${root}' unless it is shared on purpose`,
        ),
      );
    } else if (st.uid !== uid) {
      out.push(warn(`cache dir ${root}`, `it belongs to uid ${st.uid}, not to you; set ZCCACHE_CACHE_DIR to a directory of yours unless that is on purpose`));
    } else {
      out.push(ok(`cache dir ${root} (mode ${mode.toString(8)}, writable)`));
    }
  }
  out.push(checkDiskSpace(existingAncestor(root), cfg));
  return out;
}

function checkDiskSpace(dir: string, cfg: Config | null): Finding {
  let free: number;
  try {
    const s = fs.statfsSync(dir);
    free = Number(s.bavail) * Number(s.bsize);
  } catch (e) {
    return warn("disk space", `cannot read the free space of ${dir} (${errCode(e)})`);
  }
  const budget = cfg?.cacheSizeBytes.value ?? 0;
  const needed = Math.max(MIN_FREE_BYTES, budget / 10);
  if (free < needed) {
    return warn("disk space", `only ${formatBytes(free)} free on the disk of ${dir}; stores fail when it fills up. Free some space or lower cache_size ('zccache -M')`);
  }
  return ok(`disk space: ${formatBytes(free)} free on the disk of ${dir}`);
}

/** 5. The daemon: asked for a ping with the lowest version, so an older one is not retired. */
async function checkDaemon(ep: Endpoint, configBad: boolean): Promise<Finding> {
  const r = await roundTrip(ep.socketPath, { type: "ping", clientVersion: "0" }, PING_TIMEOUT_MS);
  if (r.ok) {
    const v = r.response.daemonVersion;
    const c = compareVersions(v, PRODUCT_VERSION);
    if (c < 0) return warn(`daemon pid ${r.response.pid}`, `it runs version ${v}, older than this zccache (${PRODUCT_VERSION}); the next compile replaces it`);
    if (c > 0) {
      return warn(`daemon pid ${r.response.pid}`, `it runs version ${v}, newer than this zccache (${PRODUCT_VERSION}); an older zccache is being run, check which one your builds use`);
    }
    return ok(`daemon running (pid ${r.response.pid}, version ${v})`);
  }
  const f = r.failure;
  switch (f.kind) {
    case "no-daemon":
      return configBad
        ? warn("daemon", "not running, and it will not start until the config problem above is fixed")
        : ok("daemon not running (the first compile starts it)");
    case "timeout": {
      const pid = lockHolderPid(ep);
      return fail(`daemon${pid === null ? "" : ` pid ${pid}`}`, `it is not answering (${f.detail}); compiles wait for it and then run uncached. 'zccache stop' kills it`);
    }
    case "old-daemon":
      return warn("daemon", `it spoke an older wire protocol (${f.detail}) and is handing over; the next compile starts a current one`);
    default:
      return fail("daemon", `${f.detail}; 'zccache stop' and a new compile start a fresh one`);
  }
}

/** Error text of a remote with its credentials hidden, whatever the library put in it. */
function scrub(text: string, spec: RemoteSpec): string {
  let out = text.split(" ").map(redactUrl).join(" ");
  if (spec.kind === "redis" && spec.url.startsWith("redis://")) {
    const u = new URL(spec.url);
    for (const secret of [u.password, decodeURIComponent(u.password)]) if (secret !== "") out = out.split(secret).join("*");
  }
  return out;
}

async function backendFor(spec: RemoteSpec): Promise<RemoteBackend> {
  if (spec.kind === "redis") return new (await import("../store/remote/redis.ts")).RedisBackend(spec);
  return new (await import("../store/remote/http.ts")).HttpBackend(spec);
}

/** 6. One bounded read of a key no one writes: "nothing there" proves the remote answers. */
async function probeRemote(spec: RemoteSpec): Promise<Finding> {
  const { RemoteTier } = await import("../store/remote/tier.ts");
  const caps = {
    connectTimeoutMs: Math.min(spec.connectTimeoutMs, REMOTE_PROBE_CAP_MS),
    operationTimeoutMs: Math.min(spec.operationTimeoutMs, REMOTE_PROBE_CAP_MS),
  };
  const capped: RemoteSpec = { ...spec, ...caps };
  const tier = new RemoteTier(capped, await backendFor(capped), () => {});
  const key = new Bun.CryptoHasher("sha256").update("zccache doctor probe").digest("hex");
  try {
    const r = await tier.run("read", (b, signal) => b.getManifest(key, signal, 1024));
    if (r !== null) return ok(`remote ${spec.display} (answers reads${spec.readOnly ? "; read-only" : "; writes not tried"})`);
    const why = scrub(tier.status().lastError ?? "no answer", spec).replace(/[.\s]+$/, "");
    return fail(`remote ${spec.display}`, `${why}; builds still work but skip this remote (each failure costs up to its timeout): check the address, the credentials and that the server runs`);
  } finally {
    tier.close();
  }
}

/** 7. The real compilers a build would get, zccache and ccache/sccache links passed over. */
function checkCompilers(env: Env, cwd: string, rule: SkipRule): Finding {
  const found: string[] = [];
  const missing: string[] = [];
  for (const name of COMPILERS) {
    const p = findCompiler(name, cwd, env.PATH ?? "", rule);
    if (p === null) missing.push(name);
    else found.push(`${name} ${p}`);
  }
  const none = missing.length === 0 ? "" : `; not found: ${missing.join(", ")}`;
  if (C_COMPILERS.every((c) => missing.includes(c))) {
    return warn("compilers", `no gcc, clang or cc on PATH${found.length > 0 ? ` (found: ${found.join(", ")})` : ""}: install one or fix PATH`);
  }
  return ok(`compilers: ${found.join(", ")}${none}`);
}

function isCacheWrapperFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile() && isCacheWrapperName(path.basename(fs.realpathSync(p)));
  } catch {
    return false;
  }
}

/** 8. Another compiler cache in the way: a masquerade dir before the compilers, or in CC & co. */
function checkWrappers(env: Env, cwd: string, rule: SkipRule): Finding[] {
  const out: Finding[] = [];
  const dirs = pathDirs(env, cwd);
  const reported = new Set<string>();
  for (const name of COMPILERS) {
    const real = findCompiler(name, cwd, env.PATH ?? "", rule);
    const realIdx = real === null ? dirs.length : dirs.indexOf(path.dirname(real));
    for (let i = 0; i < (realIdx < 0 ? dirs.length : realIdx); i++) {
      const dir = dirs[i] as string;
      const cand = path.join(dir, name);
      if (reported.has(dir) || !isCacheWrapperFile(cand)) continue;
      reported.add(dir);
      const tool = path.basename(realOrSelf(cand));
      out.push(
        warn(
          `${tool} links in ${dir}`,
          `a plain '${name}' runs ${tool}, not zccache; were zccache behind it, both would cache every compile (zccache's recursion guard stops loops, not the double work). Remove ${dir} from PATH, or put zccache's link directory before it`,
        ),
      );
    }
  }
  for (const v of ["CC", "CXX", "RUSTC_WRAPPER", "CMAKE_C_COMPILER_LAUNCHER", "CMAKE_CXX_COMPILER_LAUNCHER"]) {
    const words = (env[v] ?? "").split(/\s+/).filter((w) => w !== "");
    const hit = words.find((w) => isCacheWrapperName(path.basename(w)) || (w.includes("/") && isCacheWrapperFile(w)));
    if (hit === undefined) continue;
    out.push(warn(`${v}=${env[v]}`, `it runs ${path.basename(hit)}; with zccache as well, two caches do every compile twice. Use zccache alone (e.g. ${v === "RUSTC_WRAPPER" ? "RUSTC_WRAPPER=zccache" : `${v}="zccache ${words.at(-1) ?? "gcc"}"`})`));
  }
  if (out.length === 0) out.push(ok("no other compiler cache (ccache, sccache) in the way"));
  return out;
}

/** 9. Symlink mode: each `gcc -> zccache` link must find a real gcc, and not be shadowed by one. */
function checkSymlinkDirs(env: Env, cwd: string, selves: readonly string[], rule: SkipRule): Finding[] {
  const zccacheOnly = skipRuleFor(selves, {}, false);
  const dirs = pathDirs(env, cwd);
  const out: Finding[] = [];
  const good = new Map<string, string[]>();
  const seen = new Set<string>();
  for (let i = 0; i < dirs.length; i++) {
    const dir = dirs[i] as string;
    if (seen.has(dir)) continue;
    seen.add(dir);
    for (const name of COMPILERS) {
      const cand = path.join(dir, name);
      let target: string | null = null;
      try {
        const st = fs.lstatSync(cand, { throwIfNoEntry: false });
        if (st === undefined) continue;
        if (st.isSymbolicLink()) target = fs.readlinkSync(cand);
      } catch {
        continue;
      }
      if (!fs.existsSync(cand)) {
        if (target !== null && path.basename(target).startsWith("zccache")) {
          out.push(warn(`${cand} -> ${target}`, `the link is dangling, so '${name}' skips it and runs uncached; point it at ${selves[0] ?? "zccache"} again`));
        }
        continue;
      }
      if (!isWrapper(cand, zccacheOnly)) continue;
      const real = findCompiler(name, cwd, dirs.slice(i + 1).join(":"), rule);
      const shadow = findCompiler(name, cwd, dirs.slice(0, i).join(":"), rule);
      if (real === null && shadow === null) {
        out.push(fail(`${cand} -> zccache`, `no real ${name} after it on PATH, so '${name}' fails; install ${name} or add its directory to PATH after ${dir}`));
      } else if (shadow !== null) {
        out.push(warn(`${cand} -> zccache`, `${shadow} comes first on PATH, so '${name}' runs uncached; put ${dir} at the front of PATH`));
      } else {
        good.set(dir, [...(good.get(dir) ?? []), `${name} -> ${real}`]);
      }
    }
  }
  for (const [dir, links] of good) out.push(ok(`symlink dir ${dir}: ${links.join(", ")}`));
  return out;
}

function print(f: Finding): void {
  const tag = f.level === "ok" ? "ok  " : f.level;
  process.stdout.write(f.detail === "" ? `${tag} ${f.what}\n` : `${tag} ${f.what}: ${f.detail}\n`);
}

export async function doctorMain(): Promise<number> {
  const env = process.env;
  const cwd = process.cwd();
  const uid = process.getuid?.() ?? 0;
  const ep = endpointFor(env, cwd);
  const findings: Finding[] = [];
  const emit = (...list: Finding[]): void => {
    for (const f of list) {
      findings.push(f);
      print(f);
    }
  };

  const which = checkWhich(env, cwd);
  emit(which.finding);
  const cfg = loadConfig(ep.cacheRoot, env);
  const runtime = checkRuntimeDir(env, ep, uid);
  emit(...runtime.finding);
  emit(...checkCacheDir(ep.cacheRoot, uid, cfg.ok ? cfg.value : null));
  const timeoutProblem = "problem" in CLIENT_TIMEOUT ? CLIENT_TIMEOUT.problem : null;
  if (!cfg.ok || timeoutProblem !== null) {
    const what = cfg.ok ? (timeoutProblem as string) : cfg.error;
    emit(fail("config", `${what}. Until it is fixed the daemon will not start and every compile runs uncached`));
  } else {
    const file = path.join(ep.cacheRoot, CONFIG_FILE_NAME);
    emit(ok(`config valid (ZCCACHE_* variables, ${file}${fs.existsSync(file) ? "" : ": absent, defaults"})`));
  }
  emit(runtime.usable ? await checkDaemon(ep, !cfg.ok) : warn("daemon", "not asked: there is no usable runtime dir (see above)"));
  if (cfg.ok) emit(...(await Promise.all(cfg.value.remoteStorage.value.map(probeRemote))));

  const selves = [...SELF_EXES, ...(which.onPath === null ? [] : [which.onPath])];
  const rule = skipRuleFor(selves, env);
  emit(checkCompilers(env, cwd, rule));
  emit(...checkWrappers(env, cwd, rule));
  emit(...checkSymlinkDirs(env, cwd, selves, rule));
  return findings.some((f) => f.level === "FAIL") ? 1 : 0;
}
