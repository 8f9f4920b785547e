// Where a daemon lives: the cache root it serves and the socket and lock that name it.
// Shared by client and daemon so both derive the same paths from the same environment.
import { chooseRuntimeDir } from "./runtime-dir.ts";

export interface Endpoint {
  readonly cacheRoot: string;
  /** Private 0700 directory holding sockets and start locks for this user. */
  readonly runtimeDir: string;
  readonly socketPath: string;
  readonly lockPath: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function joinPath(a: string, b: string): string {
  return a.endsWith("/") ? a + b : `${a}/${b}`;
}

/** Collapses "." and ".." segments of an absolute path without touching the disk. */
export function normalizeAbsolute(p: string): string {
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return `/${out.join("/")}`;
}

export function resolveCacheRoot(env: Env, cwd: string): string {
  const explicit = env.ZCCACHE_CACHE_DIR;
  if (explicit) return normalizeAbsolute(explicit.startsWith("/") ? explicit : joinPath(cwd, explicit));
  const xdg = env.XDG_CACHE_HOME;
  if (xdg?.startsWith("/")) return normalizeAbsolute(joinPath(xdg, "zccache"));
  const home = env.HOME ?? "/tmp";
  return normalizeAbsolute(joinPath(home, ".cache/zccache"));
}

export function endpointFor(env: Env, cwd: string): Endpoint {
  const cacheRoot = resolveCacheRoot(env, cwd);
  const uid = process.getuid?.() ?? 0;
  const runtimeDir = chooseRuntimeDir(env, cacheRoot, uid).dir;
  const h = new Bun.CryptoHasher("sha256");
  h.update(cacheRoot);
  const id = h.digest("hex").slice(0, 20);
  return {
    cacheRoot,
    runtimeDir,
    socketPath: joinPath(runtimeDir, `${id}.sock`),
    lockPath: joinPath(runtimeDir, `${id}.lock`),
  };
}
