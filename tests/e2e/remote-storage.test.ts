// Remote storage through the real CLI: two "machines" (two cache roots, so two daemons)
// building copies of a project in different directories with the same base_dir layout and the
// same remote. The second is served from the remote, byte for byte what its own compiler
// makes; a read-only remote is never written; a server killed mid-build, one that never
// answers, a blob altered on the server and an unsigned manifest never fail or change a build.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { expectSameBytes } from "../assertions.ts";
import { bare, CacheEnv, requireTool, type Status, tempDir, ZCCACHE } from "../helpers.ts";
import { writeMakeProject as writeLinkProject } from "../fixtures/link/make-project.ts";
import { CARGO_BIN, cargo, cargoMeasured, writeWorkspace } from "../fixtures/rust/cargo.ts";
import { type NginxServer, type RedisServer, startNginxDav, startRedis, startSilentServer, stopAllServers } from "../fixtures/servers.ts";
import { backdateTree, twoCheckouts as checkouts, type Tree, writeFile, writeProject } from "../fixtures/relocation/reloc.ts";

afterAll(async () => {
  CacheEnv.stopAll();
  await stopAllServers();
});

const haveRedis = requireTool("redis-server", "remote storage on Redis");
const haveNginx = requireTool("nginx", "remote storage on HTTP (nginx WebDAV)");

/**
 * Two checkouts of the project, unique to this test: the servers are shared by the tests of
 * this file, and an entry another test stored would turn this test's misses into hits.
 */
function twoCheckouts(prefix: string, firstName: string, write: (root: string) => void): Tree {
  const tag = `${prefix}${Math.random().toString(36).slice(2)}`;
  return checkouts(prefix, firstName, (root) => {
    write(root);
    fs.appendFileSync(path.join(root, "include/proj/cfg.h"), `/* ${tag} */\n`);
    fs.appendFileSync(path.join(root, "src/asrt.c"), `/* ${tag} */\n`);
  });
}

/** The one remote of a machine's `status --json`. */
function remoteOf(s: Status): Record<string, number | string | boolean | null> {
  const list = s.remote_storage as Record<string, number | string | boolean | null>[] | undefined;
  expect(list?.length).toBe(1);
  return (list as Record<string, number | string | boolean | null>[])[0] as Record<string, number | string | boolean | null>;
}

/** Waits until the machine's daemon has written `n` entries to its remote. */
async function writesReach(m: CacheEnv, n: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Number(remoteOf(m.status()).writes) < n && Date.now() < deadline) await Bun.sleep(50);
  const r = remoteOf(m.status());
  // The remote's counters and state say why, when a write is missing.
  if (Number(r.writes) !== n) console.log(`writesReach: ${JSON.stringify(r)}`);
  expect(r.writes).toBe(n);
}

/** The compile of one source of the project, from its root, as a build system would spell it. */
function compileArgs(src: string): string[] {
  const cc = src.endsWith(".cpp") ? "g++" : "gcc";
  return [cc, "-O2", "-Iinclude", "-c", src, "-o", `build/obj/${src.replace(/[/.]/g, "_")}.o`];
}

const SOURCES = ["src/a.c", "lib/b.c", "lib/deep/c.c", "src/m.cpp", "src/asrt.c"];

function objectOf(root: string, src: string): Buffer {
  return fs.readFileSync(path.join(root, "build", "obj", `${src.replace(/[/.]/g, "_")}.o`));
}

function journalOutcomes(m: CacheEnv): string[] {
  const file = path.join(m.root, "logs", "compile_journal.jsonl");
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => String((JSON.parse(l) as { outcome: string }).outcome));
}

/** Builds every source with zccache in `root`; returns the outcome counters' change. */
function build(m: CacheEnv, root: string, sources: readonly string[] = SOURCES): { hits: number; misses: number; remoteHits: number } {
  const before = m.status();
  for (const src of sources) {
    const r = m.zc(compileArgs(src), { cwd: root });
    expect(`${src}: ${r.code} ${r.err}`).toBe(`${src}: 0 `);
  }
  const after = m.status();
  return {
    hits: after.hits - before.hits,
    misses: after.misses - before.misses,
    remoteHits: Number(after.remote_hits) - Number(before.remote_hits),
  };
}

/** The objects zccache delivered in `root` are exactly what the compiler makes there. */
function expectBareIdentical(root: string, sources: readonly string[] = SOURCES): void {
  for (const src of sources) {
    const got = objectOf(root, src);
    const r = bare(compileArgs(src), root);
    expect(r.code).toBe(0);
    expectSameBytes(got, objectOf(root, src), `${root}: ${src}`);
  }
}

let redis: RedisServer | null = null;
let nginx: NginxServer | null = null;

/**
 * For the tests about what is shared, not about timeouts: the default connect timeout
 * (100 ms, ccache's) covers Redis's handshake too, which a 2-core machine running two test
 * files and their compilers can miss; one such timeout switches the remote off for a while,
 * and the build then misses where the test expects hits.
 */
const PATIENT = "|connect-timeout=5000";

const remotes: [string, () => Promise<string>][] = [];
if (haveRedis) remotes.push(["redis", async () => `${(redis ??= await startRedis()).url}${PATIENT}`]);
if (haveNginx) {
  remotes.push(["nginx, bazel layout", async () => `${(nginx ??= await startNginxDav()).url}/bz|layout=bazel${PATIENT}`]);
  remotes.push(["nginx, default (subdirs) layout", async () => `${(nginx ??= await startNginxDav()).url}/sd${PATIENT}`]);
}

describe.each(remotes)("two machines sharing %s", (_name, urlOf) => {
  test("the second build is served from the remote, byte-identical to its own compiler's", async () => {
    const url = await urlOf();
    const tree = twoCheckouts("zc-remote-", "checkout-one", writeProject);
    const env = { ZCCACHE_REMOTE_STORAGE: url, ZCCACHE_BASE_DIR: tree.top };
    const one = new CacheEnv(env);
    const two = new CacheEnv(env);

    expect(build(one, tree.one)).toEqual({ hits: 0, misses: SOURCES.length, remoteHits: 0 });
    await writesReach(one, SOURCES.length);
    expect(remoteOf(one.status())).toMatchObject({ errors: 0, timeouts: 0, state: "ok" });

    const second = build(two, tree.two);
    expect(second).toEqual({ hits: SOURCES.length, misses: 0, remoteHits: SOURCES.length });
    expectBareIdentical(tree.two);
    const r = remoteOf(two.status());
    expect(r).toMatchObject({ hits: SOURCES.length, misses: 0, writes: 0, errors: 0, corrupt: 0, rejected: 0 });
    expect(journalOutcomes(two)).toEqual(SOURCES.map(() => "remote-hit"));
    expect(two.zc(["status"]).out).toContain(`(${SOURCES.length} from remote storage)`);

    // Imported: the next build on machine two is a local hit and does not ask the remote.
    expect(build(two, tree.two)).toEqual({ hits: SOURCES.length, misses: 0, remoteHits: 0 });
    expect(remoteOf(two.status()).hits).toBe(SOURCES.length);
    expect(journalOutcomes(two).slice(SOURCES.length)).toEqual(SOURCES.map(() => "hit"));

    // A header changed on machine two: a miss there, and its new entry reaches the remote.
    writeFile(tree.two, "include/proj/cfg.h", "#define CFG_BIAS 4\n");
    backdateTree(tree.two);
    const changed = build(two, tree.two, ["src/a.c"]);
    expect(changed).toEqual({ hits: 0, misses: 1, remoteHits: 0 });
    await writesReach(two, 1);
    expectBareIdentical(tree.two, ["src/a.c"]);
    one.stop();
    two.stop();
  });

  test("a read-only remote is read and never written", async () => {
    const url = await urlOf();
    const tree = twoCheckouts("zc-remote-ro-", "checkout-one", writeProject);
    const env = { ZCCACHE_BASE_DIR: tree.top };
    const writer = new CacheEnv({ ...env, ZCCACHE_REMOTE_STORAGE: url });
    build(writer, tree.one, ["src/a.c"]);
    await writesReach(writer, 1);
    const reader = new CacheEnv({ ...env, ZCCACHE_REMOTE_STORAGE: `${url}|read-only` });
    expect(build(reader, tree.two, ["src/a.c", "lib/b.c"])).toEqual({ hits: 1, misses: 1, remoteHits: 1 });
    expectBareIdentical(tree.two, ["src/a.c", "lib/b.c"]);
    // Give a (wrong) write every chance to happen, then check nothing was written.
    reader.stop();
    const third = new CacheEnv({ ...env, ZCCACHE_REMOTE_STORAGE: `${url}|read-only` });
    expect(build(third, tree.one, ["lib/b.c"])).toEqual({ hits: 0, misses: 1, remoteHits: 0 });
    expect(remoteOf(third.status())).toMatchObject({ writes: 0, misses: 1 });
    writer.stop();
    third.stop();
  });
});

/** A make project of `n` C files, each a little work for the compiler. */
function writeMakeProject(root: string, n: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    names.push(`f${i}`);
    writeFile(root, `f${i}.c`, `#include <stdio.h>\n#include <string.h>\n#include "common.h"\nint f${i}(const char *s) { return (int)strlen(s) * ${i} + COMMON; }\n`);
  }
  writeFile(root, "common.h", "#define COMMON 7\n");
  writeFile(root, "Makefile", `OBJS = ${names.map((x) => `${x}.o`).join(" ")}\nall: $(OBJS)\n%.o: %.c\n\t$(CC) -O2 -c $< -o $@\n`);
  backdateTree(root);
  return names;
}

describe("faults never fail or change a build", () => {
  test.if(haveRedis)("the Redis server killed in the middle of a parallel build, then back", async () => {
    if (!requireTool("make", "this test")) return;
    const server = await startRedis();
    const dir = tempDir("zc-remote-kill-");
    const names = writeMakeProject(dir, 24);
    const m = new CacheEnv({ ZCCACHE_REMOTE_STORAGE: `${server.url}|connect-timeout=1000` });
    const env = { ...m.env, CC: "" };
    const make = Bun.spawn(["make", "-j2", `CC=${ZCCACHE} gcc`], { cwd: dir, env: env as Record<string, string>, stdout: "pipe", stderr: "pipe" });
    // Kill the server once a few objects exist: the rest of the build runs against a dead remote.
    const deadline = Date.now() + 120_000;
    while (names.filter((x) => fs.existsSync(path.join(dir, `${x}.o`))).length < 4 && Date.now() < deadline) await Bun.sleep(10);
    await server.kill();
    const [code, errText] = await Promise.all([make.exited, new Response(make.stderr).text()]);
    expect(`${code} ${errText}`).toBe("0 ");
    // One more compile after the kill for certain, so the failures do not depend on timing.
    writeFile(dir, "late.c", "int late(void) { return 1; }\n");
    backdateTree(dir);
    expect(m.zc(["gcc", "-O2", "-c", "late.c", "-o", "late.o"], { cwd: dir }).code).toBe(0);
    for (const x of [...names, "late"]) {
      const got = fs.readFileSync(path.join(dir, `${x}.o`));
      expect(bare(["gcc", "-O2", "-c", `${x}.c`, "-o", `${x}.o`], dir).code).toBe(0);
      expectSameBytes(got, fs.readFileSync(path.join(dir, `${x}.o`)), x);
    }
    let r = remoteOf(m.status());
    expect(Number(r.errors) + Number(r.timeouts)).toBeGreaterThan(0);
    expect(r.state).toBe("backing-off");
    expect(m.status().errors).toBe(0);
    // The server returns: after its back-off the remote is probed and used again.
    await server.restart();
    let i = 0;
    const until = Date.now() + 90_000;
    while (remoteOf(m.status()).state !== "ok" && Date.now() < until) {
      writeFile(dir, `again${i}.c`, `int again${i}(void) { return ${i}; }\n`);
      backdateTree(dir);
      expect(m.zc(["gcc", "-c", `again${i}.c`, "-o", `again${i}.o`], { cwd: dir }).code).toBe(0);
      i++;
      await Bun.sleep(250);
    }
    r = remoteOf(m.status());
    expect(r.state).toBe("ok");
    const writes = Number(r.writes);
    writeFile(dir, "after.c", "int after(void) { return 2; }\n");
    backdateTree(dir);
    expect(m.zc(["gcc", "-c", "after.c", "-o", "after.o"], { cwd: dir }).code).toBe(0);
    await writesReach(m, writes + 1);
    m.stop();
    await server.stop();
  });

  test("a server that accepts and never answers: one operation timeout, then not asked", async () => {
    const silent = await startSilentServer();
    for (const url of [`${silent.url("http")}/cache|operation-timeout=500`, ...(haveRedis ? [`${silent.url("redis")}|operation-timeout=500`] : [])]) {
      const dir = tempDir("zc-remote-silent-");
      const names = writeMakeProject(dir, 4);
      const m = new CacheEnv({ ZCCACHE_REMOTE_STORAGE: url });
      const accepted = silent.accepted();
      // Asynchronously: the silent server lives in this process and must see its connections.
      for (const x of names) expect((await m.zcAsync(["gcc", "-O2", "-c", `${x}.c`, "-o", `${x}.o`], { cwd: dir })).code).toBe(0);
      const r = remoteOf(m.status());
      expect(r).toMatchObject({ errors: 0, state: "backing-off", hits: 0 });
      // Every operation sent waited out one timeout on a connection of its own (a timeout
      // drops the connection; one may still be waiting); after the first, only a probe at the
      // end of each back-off (1 s, then doubling) is sent: none when these compiles take
      // less than a second, and never one for each of the 4 lookups and 4 writes.
      const timeouts = Number(r.timeouts);
      const opened = silent.accepted() - accepted;
      expect(timeouts).toBeGreaterThanOrEqual(1);
      expect(timeouts).toBeLessThan(names.length);
      expect(opened - timeouts).toBeGreaterThanOrEqual(0);
      expect(opened - timeouts).toBeLessThanOrEqual(1);
      expect(m.status().misses).toBe(names.length);
      m.stop();
    }
    await silent.stop();
  });

  test.if(haveNginx)("a blob altered on the server is detected, not used, and counted", async () => {
    const server = (nginx ??= await startNginxDav());
    const url = `${server.url}/altered${PATIENT}`;
    const tree = twoCheckouts("zc-remote-alter-", "checkout-one", writeProject);
    const env = { ZCCACHE_REMOTE_STORAGE: url, ZCCACHE_BASE_DIR: tree.top };
    const one = new CacheEnv(env);
    build(one, tree.one, ["src/a.c"]);
    await writesReach(one, 1);
    const blobDir = path.join(server.root, "altered", "b");
    const blobs = fs.readdirSync(blobDir, { recursive: true }).map(String).filter((f) => fs.statSync(path.join(blobDir, f)).isFile());
    expect(blobs).toHaveLength(1);
    const blob = path.join(blobDir, blobs[0] as string);
    const bytes = fs.readFileSync(blob);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0x01;
    fs.writeFileSync(blob, bytes);
    const two = new CacheEnv(env);
    expect(build(two, tree.two, ["src/a.c"])).toEqual({ hits: 0, misses: 1, remoteHits: 0 });
    expectBareIdentical(tree.two, ["src/a.c"]);
    expect(remoteOf(two.status())).toMatchObject({ corrupt: 1, hits: 0 });
    one.stop();
    two.stop();
  });

  test.if(haveRedis)("with ZCCACHE_REMOTE_SECRET, a manifest without its HMAC is ignored", async () => {
    const server = (redis ??= await startRedis());
    const tree = twoCheckouts("zc-remote-hmac-", "checkout-one", writeProject);
    const env = { ZCCACHE_REMOTE_STORAGE: `${server.url}${PATIENT}`, ZCCACHE_BASE_DIR: tree.top };
    // Someone without the secret fills the cache (or plants entries in it).
    const outsider = new CacheEnv(env);
    build(outsider, tree.one, ["lib/b.c"]);
    await writesReach(outsider, 1);
    const team = { ...env, ZCCACHE_REMOTE_SECRET: "correct horse battery staple" };
    const member = new CacheEnv(team);
    expect(build(member, tree.two, ["lib/b.c"])).toEqual({ hits: 0, misses: 1, remoteHits: 0 });
    expect(Number(remoteOf(member.status()).rejected)).toBeGreaterThan(0);
    await writesReach(member, 1);
    // What a member wrote (signed) serves another member.
    const other = new CacheEnv(team);
    fs.rmSync(path.join(tree.one, "build", "obj"), { recursive: true, force: true });
    fs.mkdirSync(path.join(tree.one, "build", "obj"), { recursive: true });
    expect(build(other, tree.one, ["lib/b.c"])).toEqual({ hits: 1, misses: 0, remoteHits: 1 });
    expectBareIdentical(tree.one, ["lib/b.c"]);
    for (const m of [outsider, member, other]) m.stop();
  });
});


describe("other families through the remote", () => {
  test.if(haveRedis && CARGO_BIN !== null)("cargo: a second machine's workspace build is all remote hits, identical to a miss build there", async () => {
    const server = (redis ??= await startRedis());
    // Unique to this test (the server is shared by the file's tests), the same in both checkouts.
    const tag = `// ${Math.random()}\n`;
    const tree = checkouts("zc-remote-rs-", "ws1", (root) => {
      writeWorkspace(root);
      fs.appendFileSync(path.join(root, "base", "src", "lib.rs"), tag);
    });
    const env = { ZCCACHE_REMOTE_STORAGE: `${server.url}${PATIENT}`, ZCCACHE_BASE_DIR: tree.top, ZCCACHE_PATH_REMAP: "1" };
    const det = { CARGO_INCREMENTAL: "0" };
    const one = new CacheEnv(env);
    const first = cargoMeasured(one, ["build"], tree.one, det);
    expect({ hits: first.d.hits, misses: first.d.misses }).toEqual({ hits: 0, misses: RUST_CACHEABLE });
    await writesReach(one, RUST_CACHEABLE);
    const two = new CacheEnv(env);
    const before = two.status();
    const second = cargoMeasured(two, ["build"], tree.two, det);
    expect({ hits: second.d.hits, misses: second.d.misses, errors: second.d.errors }).toEqual({ hits: RUST_CACHEABLE, misses: 0, errors: 0 });
    expect(Number(two.status().remote_hits) - Number(before.remote_hits)).toBe(RUST_CACHEABLE);
    const served = rustArtefacts(tree.two);
    // The same build there from a fresh cache and no remote: the same bytes.
    const alone = new CacheEnv({ ZCCACHE_BASE_DIR: tree.top, ZCCACHE_PATH_REMAP: "1" });
    cargo(alone, ["clean"], tree.two, det);
    const miss = cargoMeasured(alone, ["build"], tree.two, det);
    expect(miss.d.misses).toBe(RUST_CACHEABLE);
    const built = rustArtefacts(tree.two);
    expect([...served.keys()]).toEqual([...built.keys()]);
    for (const [name, bytes] of built) expectSameBytes(served.get(name) ?? null, bytes, name);
    for (const m of [one, two, alone]) m.stop();
  });

  test.if(haveRedis)("make with ar and a link: a second machine building in the same place gets compiles, archive and link from the remote", async () => {
    if (!requireTool("make", "this test")) return;
    const server = (redis ??= await startRedis());
    // CI machines often build in the same workspace path; links are keyed by their inputs'
    // absolute paths (not relocatable), so this is where a shared link entry applies.
    const dir = path.join(tempDir("zc-remote-make-"), "ws");
    writeLinkProject(dir, 6, 1 + Math.floor(Math.random() * 1000));
    backdateTree(dir);
    const env = { ZCCACHE_REMOTE_STORAGE: `${server.url}${PATIENT}` };
    const make = (m: CacheEnv, args: string[], wrapped: boolean): void => {
      const vars = wrapped ? [`CC=${ZCCACHE} gcc`, `AR=${ZCCACHE} ar`] : ["CC=gcc", "AR=ar"];
      const r = bare(["make", "-j2", ...vars, ...args], dir, m.env);
      expect(`${r.code} ${r.err}`).toBe("0 ");
    };
    const one = new CacheEnv(env);
    make(one, [], true);
    const stored = one.status();
    expect(stored.languages.link?.misses).toBe(2);
    await writesReach(one, stored.misses);
    make(one, ["clean"], false);
    const two = new CacheEnv(env);
    make(two, [], true);
    const s = two.status();
    expect({ hits: s.hits, misses: s.misses, remote: s.remote_hits }).toEqual({ hits: stored.misses, misses: 0, remote: stored.misses });
    expect(s.languages.link?.hits).toBe(2);
    const served = ["prog", "libgen.a", "main.o"].map((f) => fs.readFileSync(path.join(dir, f)));
    make(two, ["clean"], false);
    make(two, [], false);
    ["prog", "libgen.a", "main.o"].forEach((f, i) => expectSameBytes(served[i] ?? null, fs.readFileSync(path.join(dir, f)), f));
    one.stop();
    two.stop();
  });
});

const RUST_CACHEABLE = 6;

function rustArtefacts(ws: string): Map<string, Buffer> {
  const deps = path.join(ws, "target", "debug", "deps");
  const out = new Map<string, Buffer>();
  for (const f of fs.readdirSync(deps).sort()) {
    if (!/\.(rlib|rmeta|so|d)$/.test(f) && !/^app-[0-9a-f]+$/.test(f)) continue;
    out.set(f, fs.readFileSync(path.join(deps, f)));
  }
  return out;
}
