// Remote storage URLs, in ccache's spelling so a team can reuse the ones it has:
//   redis://[[user:]password@]host[:port][/db]   redis+unix:/path/to/socket[?db=N]
//   http(s)://[user:password@]host[:port]/path    with |layout=subdirs (default), flat or bazel
// and attributes after '|': read-only, connect-timeout=MS, operation-timeout=MS.
import { err, ok, type Result } from "../../platform/result.ts";

export type HttpLayout = "subdirs" | "flat" | "bazel";

interface Common {
  /** The URL with any password replaced by "*", for status and logs. */
  readonly display: string;
  readonly readOnly: boolean;
  readonly connectTimeoutMs: number;
  readonly operationTimeoutMs: number;
}

export interface RedisSpec extends Common {
  readonly kind: "redis";
  /** What Bun's RedisClient is given. */
  readonly url: string;
}

export interface HttpSpec extends Common {
  readonly kind: "http";
  /** Without credentials and without a trailing slash. */
  readonly base: string;
  readonly layout: HttpLayout;
  /** "Basic …" when the URL carried credentials. */
  readonly authorization: string | null;
}

export type RemoteSpec = RedisSpec | HttpSpec;

/**
 * The URL with its credentials hidden: `user:*@` or `*@`. Everything we print or log about a
 * remote goes through this, error messages included.
 */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z+]+:\/\/)([^@/]*)@/i, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(":");
    return `${scheme}${colon < 0 ? "*" : `${userinfo.slice(0, colon)}:*`}@`;
  });
}

/** ccache's defaults. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 100;
export const DEFAULT_OPERATION_TIMEOUT_MS = 10_000;

function parseMs(name: string, raw: string | undefined, whole: string): Result<number, string> {
  if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) <= 0) {
    return err(`'${name}' expects a positive number of milliseconds, in '${whole}'`);
  }
  return ok(Number(raw));
}

/** Parses one URL with its attributes. */
export function parseRemoteSpec(rawItem: string): Result<RemoteSpec, string> {
  const [urlText = "", ...attrs] = rawItem.split("|");
  // Messages quote the item without its credentials: they reach build logs.
  const item = [redactUrl(urlText), ...attrs].join("|");
  const shownUrl = redactUrl(urlText);
  let readOnly = false;
  let connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS;
  let operationTimeoutMs = DEFAULT_OPERATION_TIMEOUT_MS;
  let layout: HttpLayout | null = null;
  for (const a of attrs) {
    const eq = a.indexOf("=");
    const name = eq < 0 ? a : a.slice(0, eq);
    const value = eq < 0 ? undefined : a.slice(eq + 1);
    if (name === "read-only") {
      if (value !== undefined && value !== "true" && value !== "false") return err(`'read-only' expects true or false, in '${item}'`);
      readOnly = value !== "false";
    } else if (name === "connect-timeout") {
      const r = parseMs(name, value, item);
      if (!r.ok) return r;
      connectTimeoutMs = r.value;
    } else if (name === "operation-timeout") {
      const r = parseMs(name, value, item);
      if (!r.ok) return r;
      operationTimeoutMs = r.value;
    } else if (name === "layout") {
      if (value !== "subdirs" && value !== "flat" && value !== "bazel") return err(`'layout' expects subdirs, flat or bazel, in '${item}'`);
      layout = value;
    } else {
      return err(`unknown attribute '${name}' in '${item}'`);
    }
  }
  const common = { readOnly, connectTimeoutMs, operationTimeoutMs };
  const scheme = /^([a-z+]+):/.exec(urlText)?.[1];
  if (scheme === "redis" || scheme === "redis+unix") {
    if (layout !== null) return err(`'layout' applies to http storage only, in '${item}'`);
    return redisSpec(scheme, urlText, item, shownUrl, common);
  }
  if (scheme === "http" || scheme === "https") {
    const parsed = parseUrl(urlText, shownUrl);
    if (!parsed.ok) return parsed;
    const u = parsed.value;
    if (u.search !== "" || u.hash !== "") return err(`no query or fragment allowed in '${shownUrl}'`);
    const authorization =
      u.username !== "" || u.password !== ""
        ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString("base64")}`
        : null;
    u.username = "";
    u.password = "";
    const base = u.toString().replace(/\/+$/, "");
    return ok({ kind: "http", base, layout: layout ?? "subdirs", authorization, display: shownUrl, ...common });
  }
  return err(`unsupported remote storage '${shownUrl}' (expected redis://, redis+unix: or http(s)://)`);
}

/** A URL with a host; messages show it as `shownUrl` (credentials hidden). */
function parseUrl(urlText: string, shownUrl: string): Result<URL, string> {
  let u: URL;
  try {
    u = new URL(urlText);
  } catch {
    return err(`not a URL: '${shownUrl}'`);
  }
  return u.hostname === "" ? err(`no host in '${shownUrl}'`) : ok(u);
}

function redisSpec(
  scheme: "redis" | "redis+unix",
  urlText: string,
  item: string,
  shownUrl: string,
  common: Omit<Common, "display">,
): Result<RedisSpec, string> {
  if (scheme === "redis+unix") {
    // ccache writes redis+unix:/path or redis+unix:///path; Bun wants redis+unix:///path.
    const rest = urlText.slice("redis+unix:".length);
    const q = rest.indexOf("?");
    const socketPath = (q < 0 ? rest : rest.slice(0, q)).replace(/^\/\/(?=\/)/, "");
    if (!socketPath.startsWith("/")) return err(`redis+unix needs an absolute socket path, in '${item}'`);
    let db = "";
    if (q >= 0) {
      const m = /^db=(\d+)$/.exec(rest.slice(q + 1));
      if (m === null) return err(`redis+unix accepts only ?db=N, in '${item}'`);
      db = `?db=${m[1]}`;
    }
    return ok({ kind: "redis", url: `redis+unix://${socketPath}${db}`, display: shownUrl, ...common });
  }
  const parsed = parseUrl(urlText, shownUrl);
  if (!parsed.ok) return parsed;
  const u = parsed.value;
  if (u.pathname !== "" && u.pathname !== "/" && !/^\/\d+$/.test(u.pathname)) {
    return err(`the path of a redis URL is a database number, in '${shownUrl}'`);
  }
  // ccache's spelling: a userinfo without ':' is the password (redis://PASSWORD@host), as
  // Redis before ACLs had no user names; Bun reads it as a user name, so it gets the colon.
  const url = u.username !== "" && u.password === "" && !/^redis:\/\/[^@/]*:[^@/]*@/.test(urlText) ? urlText.replace("redis://", "redis://:") : urlText;
  return ok({ kind: "redis", url, display: shownUrl, ...common });
}

/** A space-separated list, as ccache's remote_storage; "" is none. */
export function parseRemoteStorage(raw: string): Result<readonly RemoteSpec[], string> {
  const specs: RemoteSpec[] = [];
  for (const item of raw.split(/\s+/)) {
    if (item === "") continue;
    const r = parseRemoteSpec(item);
    if (!r.ok) return r;
    specs.push(r.value);
  }
  return ok(specs);
}
