// The remote tiers against real servers (Redis over TCP and a unix socket, nginx WebDAV in the
// three HTTP layouts): what one machine writes another finds, checks and imports; read-only
// remotes are never written; damage on the server is refused and counted; a server that is
// down or never answers is switched off and asked again once it is back.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { sha256Hex } from "../../src/platform/hash.ts";
import { LocalStore } from "../../src/store/local/local-store.ts";
import { MAX_MANIFEST_BYTES, Remotes } from "../../src/store/remote/remotes.ts";
import { parseRemoteStorage, type RemoteSpec } from "../../src/store/remote/spec.ts";
import type { EntryRecord, Store, StoredEntry } from "../../src/store/store.ts";
import { CacheEnv, requireTool, tempDir } from "../helpers.ts";
import { type NginxServer, type RedisServer, startNginxDav, startRedis, startSilentServer, stopAllServers } from "../fixtures/servers.ts";

const opened: { local: LocalStore; remotes: Remotes }[] = [];

afterAll(async () => {
  for (const m of opened) {
    m.remotes.close();
    m.local.close();
  }
  await stopAllServers();
  CacheEnv.stopAll();
});

const haveRedis = requireTool("redis-server", "remote storage on Redis");
const haveNginx = requireTool("nginx", "remote storage on HTTP (nginx WebDAV)");

function specs(raw: string): readonly RemoteSpec[] {
  const r = parseRemoteStorage(raw);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

function record(stdout: string): Omit<EntryRecord, "outputs"> {
  return {
    deps: [],
    absent: [],
    exitCode: 0,
    stdout: Buffer.from(stdout).toString("base64"),
    stderr: "",
    language: "c",
    compileMs: 40,
  };
}

/** One "machine": its own local store, its own daemon-wide Remotes. */
function machine(raw: string, secret = ""): { local: LocalStore; remotes: Remotes; store: Store; dir: string; log: string[] } {
  const dir = tempDir("zc-remote-machine-");
  const log: string[] = [];
  const local = new LocalStore(path.join(dir, "cache"));
  const remotes = new Remotes((m) => log.push(m));
  opened.push({ local, remotes });
  return { local, remotes, store: remotes.storeFor(local, specs(raw), secret), dir, log };
}

const IS_ROOT = (process.getuid?.() ?? -1) === 0;

const first = (entries: readonly StoredEntry[]): StoredEntry | null => entries[0] ?? null;

async function putObject(m: ReturnType<typeof machine>, key: string, content: string): Promise<StoredEntry> {
  const file = path.join(m.dir, "x.o");
  fs.writeFileSync(file, content);
  const r = await m.store.put(key, record(`built ${content}`), [{ role: "object", path: file }]);
  if (!r.ok) throw new Error(r.error.detail);
  await m.remotes.drain(30_000);
  return r.value;
}

async function found(m: ReturnType<typeof machine>, key: string): Promise<StoredEntry | null> {
  return (await m.store.fallback?.find(key, first))?.entry ?? null;
}

function key(n: string): string {
  return sha256Hex(`key ${n} ${Math.random()}`);
}

interface Backend {
  readonly name: string;
  url(): string;
  /** Overwrites a stored blob with other bytes of the same length. */
  corruptBlob(hash: string): Promise<void>;
  objectCount(): Promise<number>;
  /** Stores raw bytes where the manifest of `k` lives (as a hostile or broken writer would). */
  plantManifest(k: string, bytes: Uint8Array): Promise<void>;
  /** Where the layout puts an object (HTTP only). */
  expectFiles?(k: string, hash: string): void;
}

let redis: RedisServer | null = null;
let unixRedis: RedisServer | null = null;
let nginx: NginxServer | null = null;

function nginxBackend(layout: "subdirs" | "flat" | "bazel", prefix: string): Backend {
  const server = (): NginxServer => nginx as NginxServer;
  const blobPath = (hash: string): string =>
    layout === "subdirs"
      ? path.join(server().root, prefix, "b", hash.slice(0, 2), hash.slice(2))
      : layout === "flat"
        ? path.join(server().root, prefix, `b-${hash}`)
        : path.join(server().root, prefix, "cas", hash);
  return {
    name: `nginx ${layout}`,
    url: () => `${server().url}/${prefix}${layout === "subdirs" ? "" : `|layout=${layout}`}`,
    corruptBlob: async (hash) => {
      const p = blobPath(hash);
      const b = fs.readFileSync(p);
      b[0] = (b[0] ?? 0) ^ 0xff;
      fs.writeFileSync(p, b);
    },
    objectCount: async () => {
      const dir = path.join(server().root, prefix);
      return fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).filter((f) => fs.statSync(path.join(dir, String(f))).isFile()).length : 0;
    },
    plantManifest: async (k, bytes) => {
      const rel = layout === "subdirs" ? path.join(prefix, "m", k.slice(0, 2), k.slice(2)) : layout === "flat" ? path.join(prefix, `m-${k}`) : path.join(prefix, "ac", k);
      const p = path.join(server().root, rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, bytes);
      if (IS_ROOT) fs.chownSync(p, fs.statSync(server().root).uid, fs.statSync(server().root).gid);
    },
    expectFiles: (k, hash) => {
      const m =
        layout === "subdirs" ? path.join(prefix, "m", k.slice(0, 2), k.slice(2)) : layout === "flat" ? path.join(prefix, `m-${k}`) : path.join(prefix, "ac", k);
      expect(fs.existsSync(path.join(server().root, m))).toBe(true);
      expect(sha256Hex(fs.readFileSync(blobPath(hash)))).toBe(hash as ReturnType<typeof sha256Hex>);
    },
  };
}

function redisBackend(name: string, server: () => RedisServer, url: () => string): Backend {
  return {
    name,
    url,
    corruptBlob: async (hash) => {
      const v = await server().cli(["GETRANGE", `zccache:b:${hash}`, "0", "-1"]);
      await server().cli(["SET", `zccache:b:${hash}`, `${v.trimEnd().slice(1)}!`]);
    },
    objectCount: async () => Number((await server().cli(["DBSIZE"])).trim()),
    plantManifest: async (k, bytes) => {
      const { RedisClient } = await import("bun");
      const c = new RedisClient(server().url);
      try {
        await c.set(`zccache:m:${k}`, bytes);
      } finally {
        c.close();
      }
    },
  };
}

const backends: Backend[] = [];
if (haveRedis) {
  backends.push(redisBackend("redis tcp", () => redis as RedisServer, () => (redis as RedisServer).url));
  backends.push(redisBackend("redis unix socket", () => unixRedis as RedisServer, () => (unixRedis as RedisServer).unixUrl as string));
}
if (haveNginx) {
  backends.push(nginxBackend("subdirs", "sub"), nginxBackend("flat", "flat"), nginxBackend("bazel", "bazel"));
}

describe.each(backends.map((b) => [b.name, b] as const))("remote tier: %s", (_name, b) => {
  test("what one machine stores, another finds, checks and imports", async () => {
    redis ??= haveRedis ? await startRedis() : null;
    unixRedis ??= haveRedis ? await startRedis({ unixSocket: true }) : null;
    nginx ??= haveNginx ? await startNginxDav() : null;
    const a = machine(b.url());
    const k = key("share");
    const stored = await putObject(a, k, "object bytes \u0000\u00ff");
    expect(a.remotes.status()[0]).toMatchObject({ writes: 1, errors: 0, state: "ok" });
    b.expectFiles?.(k, stored.outputs[0]?.hash as string);

    const other = machine(b.url());
    expect(await other.store.lookup(k)).toEqual([]);
    const e = await found(other, k);
    expect(e).toEqual(stored);
    // Imported: the local tier now has it, and delivers the same bytes.
    expect(await other.local.lookup(k)).toEqual([stored]);
    const dest = path.join(other.dir, "out.o");
    expect((await other.store.materialize(stored.outputs[0] as StoredEntry["outputs"][0], dest, "copy")).ok).toBe(true);
    expect(fs.readFileSync(dest, "utf8")).toBe("object bytes \u0000\u00ff");
    const st = other.remotes.status()[0];
    expect(st).toMatchObject({ hits: 1, misses: 0, corrupt: 0, rejected: 0 });
    expect(st?.bytesIn).toBeGreaterThan(0);
    // An unknown key is a counted miss.
    expect(await found(other, key("none"))).toBeNull();
    expect(other.remotes.status()[0]?.misses).toBe(1);
  });

  test("a second entry under the same key keeps the first; validation picks", async () => {
    const a = machine(b.url());
    const k = key("two");
    const e1 = await putObject(a, k, "one");
    const e2 = await putObject(machine(b.url()), k, "two");
    const reader = machine(b.url());
    const seen: string[][] = [];
    const got = await reader.store.fallback?.find(k, (list) => {
      seen.push(list.map((e) => e.digest));
      return list.find((e) => e.digest === e1.digest) ?? null;
    });
    expect(seen).toEqual([[e2.digest, e1.digest]]);
    expect(got?.entry).toEqual(e1);
  });

  test("a read-only remote is read and never written", async () => {
    const k = key("ro");
    const stored = await putObject(machine(b.url()), k, "shared");
    const before = await b.objectCount();
    const ro = machine(`${b.url()}|read-only`);
    expect(await found(ro, k)).toEqual(stored);
    await putObject(ro, key("ro-new"), "local only");
    expect(await b.objectCount()).toBe(before);
    expect(ro.remotes.status()[0]).toMatchObject({ readOnly: true, writes: 0, hits: 1 });
  });

  test("a blob altered on the server is detected, not used, and counted", async () => {
    const k = key("corrupt");
    const stored = await putObject(machine(b.url()), k, "precious object");
    await b.corruptBlob(stored.outputs[0]?.hash as string);
    const reader = machine(b.url());
    expect(await found(reader, k)).toBeNull();
    expect(reader.remotes.status()[0]).toMatchObject({ corrupt: 1, hits: 0 });
    expect(await reader.local.lookup(k)).toEqual([]);
  });

  test("a manifest larger than any can be is refused without being read whole", async () => {
    const k = key("huge");
    await b.plantManifest(k, new Uint8Array(MAX_MANIFEST_BYTES + 4096).fill(0x20));
    const reader = machine(b.url());
    expect(await found(reader, k)).toBeNull();
    const st = reader.remotes.status()[0];
    expect(st?.lastError).toContain(`larger than ${MAX_MANIFEST_BYTES} bytes`);
    expect(st?.bytesIn).toBe(0);
    expect(st?.hits).toBe(0);
  });

  test("with a secret, only manifests signed with it are used", async () => {
    const k = key("hmac");
    await putObject(machine(b.url()), k, "unsigned");
    const strict = machine(b.url(), "team secret");
    expect(await found(strict, k)).toBeNull();
    expect(strict.remotes.status()[0]).toMatchObject({ rejected: 1, hits: 0 });
    const k2 = key("hmac2");
    const signed = await putObject(machine(b.url(), "team secret"), k2, "signed");
    expect(await found(machine(b.url(), "team secret"), k2)).toEqual(signed);
    expect(await found(machine(b.url(), "another secret"), k2)).toBeNull();
  });
});

describe("faults", () => {
  test.if(haveRedis)("a Redis server killed and restarted: errors counted, switched off, asked again", async () => {
    const server = await startRedis();
    const m = machine(`${server.url}|connect-timeout=500`);
    const k = key("before");
    await putObject(m, k, "before the crash");
    await server.kill();
    // Every operation fails fast (connection refused); after three the remote is switched off.
    for (let i = 0; i < 4; i++) expect(await found(m, key(`down ${i}`))).toBeNull();
    await putObject(m, key("while down"), "not written");
    let st = m.remotes.status()[0];
    expect(st?.state).toBe("backing-off");
    // The entry stored while the remote was switched off was not written, and says so.
    expect(st?.dropped).toBe(1);
    expect(st?.errors).toBeGreaterThanOrEqual(3);
    expect(m.log.length).toBeGreaterThanOrEqual(1);
    await server.restart();
    // The first operation after the back-off probes the server and closes the breaker.
    const deadline = Date.now() + 60_000;
    while (m.remotes.status()[0]?.state !== "ok" && Date.now() < deadline) {
      await found(m, key("probe"));
      await Bun.sleep(200);
    }
    st = m.remotes.status()[0];
    expect(st?.state).toBe("ok");
    const k2 = key("after");
    await putObject(m, k2, "after the restart");
    expect(await found(machine(server.url), k2)).not.toBeNull();
    await server.stop();
  });

  test("a server that accepts and never answers costs one timeout, then is not asked", async () => {
    const silent = await startSilentServer();
    for (const url of [`${silent.url("redis")}|operation-timeout=300`, `${silent.url("http")}/c|operation-timeout=300`]) {
      const m = machine(url);
      expect(await found(m, key("silent"))).toBeNull();
      expect(m.remotes.status()[0]).toMatchObject({ timeouts: 1, state: "backing-off" });
      const accepted = silent.accepted();
      for (let i = 0; i < 5; i++) expect(await found(m, key(`silent ${i}`))).toBeNull();
      await putObject(m, key("silent write"), "x");
      expect(silent.accepted()).toBe(accepted);
      expect(m.remotes.status()[0]?.timeouts).toBe(1);
    }
    await silent.stop();
  });
});
