import { expect, test } from "bun:test";
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_OPERATION_TIMEOUT_MS, parseRemoteStorage, parseRemoteSpec } from "./spec.ts";

function ok<T>(r: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

test("ccache's redis spellings, with defaults and passwords hidden from display", () => {
  const [a, b, c, d] = ok(parseRemoteStorage("redis://127.0.0.1:6379 redis://u:s3cret@h:1/2 redis+unix:/run/r.sock redis+unix:///run/r.sock?db=3"));
  expect(a).toMatchObject({ kind: "redis", url: "redis://127.0.0.1:6379", readOnly: false });
  expect(a?.connectTimeoutMs).toBe(DEFAULT_CONNECT_TIMEOUT_MS);
  expect(a?.operationTimeoutMs).toBe(DEFAULT_OPERATION_TIMEOUT_MS);
  expect(b).toMatchObject({ kind: "redis", url: "redis://u:s3cret@h:1/2", display: "redis://u:*@h:1/2" });
  expect(c).toMatchObject({ kind: "redis", url: "redis+unix:///run/r.sock" });
  expect(d).toMatchObject({ kind: "redis", url: "redis+unix:///run/r.sock?db=3" });
});

test("http layouts and attributes", () => {
  const s = ok(parseRemoteSpec("http://user:pw@cache.example:8080/zc/|layout=bazel|read-only|connect-timeout=50|operation-timeout=2000"));
  expect(s).toMatchObject({
    kind: "http",
    base: "http://cache.example:8080/zc",
    layout: "bazel",
    readOnly: true,
    connectTimeoutMs: 50,
    operationTimeoutMs: 2000,
    display: "http://user:*@cache.example:8080/zc/",
    authorization: `Basic ${Buffer.from("user:pw").toString("base64")}`,
  });
  expect(ok(parseRemoteSpec("https://h/c"))).toMatchObject({ layout: "subdirs", authorization: null, base: "https://h/c" });
  expect(ok(parseRemoteSpec("http://h/|layout=flat|read-only=false"))).toMatchObject({ layout: "flat", readOnly: false });
});

test("bad URLs and attributes are one line naming what is wrong", () => {
  const bad: [string, string][] = [
    ["ftp://h/x", "unsupported remote storage 'ftp://h/x'"],
    ["redis://h:1|layout=flat", "'layout' applies to http storage only"],
    ["http://h/|layout=tree", "'layout' expects subdirs, flat or bazel"],
    ["http://h/|operation-timeout=0", "'operation-timeout' expects a positive number of milliseconds"],
    ["http://h/|connect-timeout=abc", "'connect-timeout' expects a positive number of milliseconds"],
    ["http://h/|shards=a,b", "unknown attribute 'shards'"],
    ["redis://h/x", "the path of a redis URL is a database number"],
    ["redis+unix:relative.sock", "redis+unix needs an absolute socket path"],
    ["http://h/x?y=1", "no query or fragment allowed"],
  ];
  for (const [raw, msg] of bad) {
    const r = parseRemoteStorage(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toContain(msg);
      expect(r.error).not.toContain("\n");
    }
  }
  expect(ok(parseRemoteStorage("  "))).toEqual([]);
});

test("passwords never reach display or messages, in any spelling", () => {
  // ccache's spelling: a lone userinfo is the password.
  expect(ok(parseRemoteSpec("redis://s3cret@h:1"))).toMatchObject({ url: "redis://:s3cret@h:1", display: "redis://*@h:1" });
  expect(ok(parseRemoteSpec("redis://:s3cret@h:1"))).toMatchObject({ url: "redis://:s3cret@h:1", display: "redis://:*@h:1" });
  expect(ok(parseRemoteSpec("http://bob:p%C3%A4ss%40x@h/c"))).toMatchObject({ display: "http://bob:*@h/c" });
  for (const raw of ["redis://:s3cret@h:1|bogus", "http://u:s3cret@h/x?q=1", "redis://s3cret@h/notadb", "ftp://u:s3cret@h/"]) {
    const r = parseRemoteStorage(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).not.toContain("s3cret");
  }
});
