// ccache's and sccache's options as aliases of our commands: -s/--show-stats (-v),
// --print-stats, --show-stats --stats-format json, -z, -C, -c, --evict-older-than, -M (kept
// in zccache.conf, applied without a restart), -o, -p, -x, -V, --start-server/--stop-server,
// and a one-line error for anything else.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { CacheEnv, type RunResult, sleepMs } from "../helpers.ts";

afterAll(() => CacheEnv.stopAll());

const UNSET = { ZCCACHE_CACHE_SIZE: undefined, ZCCACHE_MAX_AGE: undefined, ZCCACHE_COMPRESSION_LEVEL: undefined, ZCCACHE_LOG_LEVEL: undefined };

function expectOk(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\nstdout: ${r.out}\nstderr: ${r.err}`);
  return r;
}

/** A failure: non-zero, nothing on stdout, exactly one line on stderr. */
function expectOneLineFailure(r: RunResult, what: string): void {
  expect(r.code, what).not.toBe(0);
  expect(r.out, what).toBe("");
  expect(r.err.split("\n").filter((l) => l !== "").length, `${what}: ${r.err}`).toBe(1);
  expect(r.err.startsWith("zccache: "), what).toBe(true);
}

function printStats(c: CacheEnv): Map<string, number> {
  const r = expectOk(c.zc(["--print-stats"]), "--print-stats");
  const lines = r.out.split("\n").filter((l) => l !== "");
  for (const l of lines) expect(l).toMatch(/^[a-z_]+\t\d+$/);
  const names = lines.map((l) => l.split("\t")[0] as string);
  expect(names).toEqual([...names].sort());
  return new Map(lines.map((l) => [l.split("\t")[0] as string, Number(l.split("\t")[1])]));
}

function confPath(c: CacheEnv): string {
  return path.join(c.root, "zccache.conf");
}

async function pollDaemons(c: CacheEnv, want: (n: number) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!want(c.daemonPids().length)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleepMs(50);
  }
}

describe("statistics in ccache's and sccache's formats", () => {
  const c = new CacheEnv(UNSET);

  test("after a miss, a hit and a link: -s, --print-stats and sccache's JSON agree with status", () => {
    c.write("a.c", "int compat_a(int x) { return x + 41; }\n");
    c.write("m.c", "int main(void) { return 0; }\n");
    expectOk(c.zc(["gcc", "-c", "a.c", "-o", "a.o"]), "miss");
    expectOk(c.zc(["gcc", "-c", "a.c", "-o", "a.o"]), "hit");
    expectOk(c.zc(["gcc", "m.c", "-o", "m"]), "compile and link");
    const st = c.status();
    expect([st.hits, st.misses, st.uncacheable, st.errors]).toEqual([1, 1, 1, 0]);

    // ccache -s: cacheable calls 2 of 3, hits and misses 1 of 2, all hits direct.
    const s = expectOk(c.zc(["-s"]), "-s").out;
    expect(s).toMatch(/^Cacheable calls:\s+2 \/\s+3 \(66\.67%\)$/m);
    expect(s).toMatch(/^ {2}Hits:\s+1 \/\s+2 \(50\.00%\)$/m);
    expect(s).toMatch(/^ {4}Direct:\s+1 \/\s+1 \(100\.0%\)$/m);
    expect(s).toMatch(/^ {4}Preprocessed:\s+0 \/\s+1 \( 0\.00%\)$/m);
    expect(s).toMatch(/^ {2}Misses:\s+1 \/\s+2 \(50\.00%\)$/m);
    expect(s).toMatch(/^Uncacheable calls:\s+1 \/\s+3 \(33\.33%\)$/m);
    expect(s).toMatch(/^Local storage:$/m);
    const limitGb = (st.cache_size_limit_bytes as number) / 1e9;
    expect(s).toMatch(new RegExp(`^ {2}Cache size \\(GB\\):\\s+\\d+\\.\\d\\d / ${limitGb.toFixed(2).replace(".", "\\.")} \\(`, "m"));
    expect(s).not.toContain("Errors:"); // a zero line is left out unless -vv
    expect(expectOk(c.zc(["--show-stats"]), "--show-stats").out).toBe(s);

    // -v adds the directory, config file and reasons; -vv the zero lines too.
    const v = expectOk(c.zc(["-sv"]), "-sv").out;
    expect(v).toMatch(new RegExp(`^Cache directory:\\s+${c.root.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
    expect(v).toContain(`Config file:`);
    expect(v).toMatch(/^ {2}compile-and-link:\s+1 \/\s+1 \(100\.0%\)$/m);
    expect(v).toMatch(/^ {2}Files:\s+1$/m);
    expect(expectOk(c.zc(["-s", "-v"]), "-s -v").out).toBe(v);
    expect(expectOk(c.zc(["--show-stats", "--verbose"]), "--show-stats --verbose").out).toBe(v);
    expect(expectOk(c.zc(["-svv"]), "-svv").out).toMatch(/^Errors:\s+0 \/\s+3 \( 0\.00%\)$/m);

    // --print-stats: ccache's IDs, tab-separated, counts mapped from ours.
    const p = printStats(c);
    expect(p.get("direct_cache_hit")).toBe(1);
    expect(p.get("preprocessed_cache_hit")).toBe(0);
    expect(p.get("cache_miss")).toBe(1);
    expect(p.get("direct_cache_miss")).toBe(1);
    expect(p.get("called_for_link")).toBe(1);
    expect(p.get("local_storage_hit")).toBe(1);
    expect(p.get("local_storage_miss")).toBe(1);
    expect(p.get("files_in_cache")).toBe(st.entries);
    expect(p.get("cache_size_kibibyte")).toBe(Math.round(st.bytes / 1024));
    for (const f of ["stats_updated_timestamp", "stats_zeroed_timestamp", "compile_failed", "internal_error", "remote_storage_hit"]) {
      expect(p.has(f), f).toBe(true);
    }

    // sccache --show-stats --stats-format json.
    const j = JSON.parse(expectOk(c.zc(["--show-stats", "--stats-format", "json"]), "json").out) as {
      stats: Record<string, unknown> & { cache_hits: { counts: Record<string, number> }; cache_misses: { counts: Record<string, number> } };
      cache_location: string;
      cache_size: number;
      max_cache_size: number;
    };
    expect(j.stats.compile_requests).toBe(3);
    expect(j.stats.requests_executed).toBe(2);
    expect(j.stats.requests_not_compile).toBe(1);
    expect(j.stats.cache_hits.counts).toEqual({ "C/C++": 1 });
    expect(j.stats.cache_misses.counts).toEqual({ "C/C++": 1 });
    expect(j.stats.cache_errors).toEqual({ counts: {} });
    expect(j.stats.non_cacheable_compilations).toBe(0);
    expect(j.cache_location).toBe(`Local disk: ${JSON.stringify(c.root)}`);
    expect(j.cache_size).toBe(st.bytes);
    expect(j.max_cache_size).toBe(st.cache_size_limit_bytes as number);
    expect(JSON.parse(expectOk(c.zc(["-s", "--stats-format=json"]), "-s json").out)).toEqual(j);
  });

  test("-x reports the store's compression", () => {
    const x = expectOk(c.zc(["-x"]), "-x").out;
    expect(x).toMatch(/^Total data:\s+\d+\.\d (kB|MB|GB)$/m);
    const st = c.status();
    if (typeof st.uncompressed_bytes === "number") {
      expect(x).toMatch(/^ {2}Original size:\s+\d+\.\d (kB|MB|GB)$/m);
      expect(x).toMatch(/^Compression level:\s+\d+$/m);
    }
    expect(expectOk(c.zc(["--show-compression"]), "--show-compression").out).toBe(x);
  });

  test("-z and --zero-stats zero the counters like stats --zero, in order with -s", () => {
    const z = expectOk(c.zc(["-z"]), "-z");
    expect(z.out).toBe("Statistics zeroed\n");
    const st = c.status();
    expect([st.hits, st.misses, st.uncacheable, st.errors]).toEqual([0, 0, 0, 0]);
    expect(st.entries).toBe(1); // the cache itself stays
    const p = printStats(c);
    expect([p.get("direct_cache_hit"), p.get("cache_miss"), p.get("called_for_link")]).toEqual([0, 0, 0]);

    expectOk(c.zc(["gcc", "-c", "a.c", "-o", "a.o"]), "hit");
    expect(c.status().hits).toBe(1);
    // Actions run in order: zeroed first, then shown.
    const zs = expectOk(c.zc(["--zero-stats", "-s"]), "--zero-stats -s").out;
    expect(zs.startsWith("Statistics zeroed\n")).toBe(true);
    expect(zs).not.toContain("Cacheable calls:");
    expect(c.status().hits).toBe(0);
  });
});

describe("remote storage in ccache's statistics", () => {
  // Nothing listens on port 1: every remote read fails, which is what the counters show.
  const c = new CacheEnv({ ...UNSET, ZCCACHE_REMOTE_STORAGE: "http://127.0.0.1:1/cache" });

  test("-s has a Remote storage section and --print-stats the remote counters", () => {
    c.write("r.c", "int compat_r(int x) { return x - 9; }\n");
    expectOk(c.zc(["gcc", "-c", "r.c", "-o", "r.o"]), "miss");
    const st = c.status();
    const remote = (st.remote_storage as { hits: number; misses: number; errors: number; timeouts: number }[])[0];
    expect(remote).toBeDefined();
    const s = expectOk(c.zc(["-s"]), "-s").out;
    expect(s).toMatch(/^Remote storage:$/m);
    expect(s.indexOf("Remote storage:")).toBeGreaterThan(s.indexOf("Local storage:"));
    const p = printStats(c);
    expect(p.get("remote_storage_hit")).toBe(remote?.hits);
    expect(p.get("remote_storage_miss")).toBe(remote?.misses);
    expect(p.get("remote_storage_error")).toBe(remote?.errors);
    expect(p.get("remote_storage_timeout")).toBe(remote?.timeouts);
    expect((remote?.errors ?? 0) + (remote?.timeouts ?? 0)).toBeGreaterThan(0);
  });
});

describe("-M, -o and -p: zccache.conf", () => {
  const c = new CacheEnv(UNSET);

  test("-M SIZE persists in zccache.conf (ccache's units) and applies without a restart", () => {
    const pid = c.status().pid;
    const r = expectOk(c.zc(["-M", "5G"]), "-M 5G");
    expect(r.out).toBe("Set cache size limit to 5.0 GB\n");
    expect(fs.readFileSync(confPath(c), "utf8")).toBe("cache_size = 5000000000\n");
    expect(fs.statSync(confPath(c)).mode & 0o777).toBe(0o600);
    const st = c.status();
    expect(st.pid).toBe(pid);
    expect(st.cache_size_limit_bytes).toBe(5_000_000_000);
    expect(expectOk(c.zc(["-s"]), "-s").out).toMatch(/^ {2}Cache size \(GB\):\s+\d\.\d\d \/ 5\.00 /m);

    // Binary suffixes, no suffix (= G), and the long spellings.
    for (const [args, bytes] of [
      [["-M", "1.5Gi"], 1.5 * 1024 ** 3],
      [["--max-size", "500M"], 500_000_000],
      [["--max-size=2Ti"], 2 * 1024 ** 4],
      [["-M10"], 10_000_000_000],
      [["-M", "64KiB"], 64 * 1024],
    ] as const) {
      expectOk(c.zc(args), args.join(" "));
      expect(fs.readFileSync(confPath(c), "utf8"), args.join(" ")).toBe(`cache_size = ${bytes}\n`);
      expect(c.status().cache_size_limit_bytes, args.join(" ")).toBe(bytes);
    }
    expect(c.status().pid).toBe(pid);
  });

  test("comments and other settings in zccache.conf are kept; the key's line is replaced", () => {
    fs.writeFileSync(confPath(c), "# my settings\nlog_level = debug\ncache_size = 1G\n\n# end\ncache_size = 2G\n");
    expectOk(c.zc(["-M", "3G"]), "-M 3G");
    expect(fs.readFileSync(confPath(c), "utf8")).toBe("# my settings\nlog_level = debug\ncache_size = 3000000000\n\n# end\n");
    expect(c.status().cache_size_limit_bytes).toBe(3_000_000_000);
  });

  test("-M with a bad size, or 0 (no limit), fails with one line and leaves the file alone", () => {
    const before = fs.readFileSync(confPath(c));
    for (const bad of ["bogus", "5m", "-1", "500B", "0", "0.0"]) {
      expectOneLineFailure(c.zc(["-M", bad]), `-M ${bad}`);
      expect(fs.readFileSync(confPath(c)).equals(before), `-M ${bad}`).toBe(true);
    }
    expectOneLineFailure(c.zc(["-M"]), "-M without a value");
  });

  test("-o KEY=VALUE sets our keys and ccache's where they map; unknown keys fail", () => {
    expectOk(c.zc(["-o", "max_age=1d"]), "-o max_age");
    expectOk(c.zc(["--set-config", "max_size=2G"]), "-o max_size");
    expectOk(c.zc(["-o", "compression=false"]), "-o compression=false");
    expectOk(c.zc(["--set-config=base_dir=/srv/src"]), "--set-config=base_dir");
    const text = fs.readFileSync(confPath(c), "utf8");
    expect(text).toContain("\nmax_age = 1d\n");
    expect(text).toContain("\ncache_size = 2000000000\n");
    expect(text).toContain("\ncompression_level = 0\n");
    expect(text).toContain("\nbase_dir = /srv/src\n");
    expect(text.startsWith("# my settings\n")).toBe(true);
    const st = c.status();
    expect(st.cache_size_limit_bytes).toBe(2_000_000_000);
    expect(st.max_age_secs).toBe(86_400);

    // compression=true keeps a chosen level and otherwise turns the default one on.
    expectOk(c.zc(["-o", "compression=true"]), "-o compression=true");
    expect(fs.readFileSync(confPath(c), "utf8")).toMatch(/\ncompression_level = [1-9]\d*\n/);
    expectOk(c.zc(["-o", "compression_level=5", "-o", "compression=true"]), "level 5, then true");
    expect(fs.readFileSync(confPath(c), "utf8")).toContain("\ncompression_level = 5\n");

    const before = fs.readFileSync(confPath(c));
    for (const bad of [["-o", "bogus_key=1"], ["-o", "novalue"], ["-o", "compression_level=99"], ["-o", "max_age=soon"], ["-o", "max_size=0"], ["-o"]]) {
      expectOneLineFailure(c.zc(bad), bad.join(" "));
      expect(fs.readFileSync(confPath(c)).equals(before), bad.join(" ")).toBe(true);
    }
  });

  test("a config file with a bad line elsewhere is not written: one line naming it, nothing changed", () => {
    const broken = new CacheEnv(UNSET);
    fs.mkdirSync(broken.root, { recursive: true, mode: 0o700 });
    fs.writeFileSync(confPath(broken), "cache_size = 1G\nbogus = 1\n");
    const before = fs.readFileSync(confPath(broken));
    const r = broken.zc(["-M", "4G"]);
    expectOneLineFailure(r, "-M 4G into a broken file");
    expect(r.err).toContain(":2: unknown key 'bogus'");
    expect(fs.readFileSync(confPath(broken)).equals(before)).toBe(true);
    broken.stop();
  });

  test("a zccache.conf that is a link is edited where it points, and stays a link", () => {
    const linked = new CacheEnv(UNSET);
    fs.mkdirSync(linked.root, { recursive: true, mode: 0o700 });
    const target = path.join(linked.work, "dotfiles-zccache.conf");
    fs.writeFileSync(target, "# mine\nlog_level = info\n", { mode: 0o600 });
    fs.symlinkSync(target, confPath(linked));
    expectOk(linked.zc(["-M", "2G"]), "-M through a link");
    expect(fs.lstatSync(confPath(linked)).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(target, "utf8")).toBe("# mine\nlog_level = info\ncache_size = 2000000000\n");
    linked.stop();
  });

  test("-M creates the cache dir (0700) and zccache.conf (0600) when they are missing", () => {
    const fresh = new CacheEnv(UNSET);
    expect(fs.existsSync(fresh.root)).toBe(false);
    expectOk(fresh.zc(["-M", "1G"]), "-M in a fresh root");
    expect(fs.statSync(fresh.root).mode & 0o777).toBe(0o700);
    expect(fs.statSync(confPath(fresh)).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(confPath(fresh), "utf8")).toBe("cache_size = 1000000000\n");
    fresh.stop();
  });

  test("-p shows every setting as ccache does: (source) key = value, sorted", () => {
    const r = expectOk(c.zc(["-p"], { env: { ZCCACHE_LOG_LEVEL: "error" } }), "-p");
    const lines = r.out.split("\n").filter((l) => l !== "");
    const keys = lines.map((l) => l.replace(/^\([^)]*\) /, "").split(" = ")[0] as string);
    expect(keys).toEqual([...keys].sort());
    expect(lines).toContain(`(${confPath(c)}) cache_size = 2000000000`);
    expect(lines).toContain(`(${confPath(c)}) max_age = 86400`);
    expect(lines).toContain(`(environment) log_level = error`);
    expect(lines).toContain(`(environment) cache_dir = ${c.root}`);
    expect(lines).toContain(`(default) idle_timeout_secs = 3600`);
    expect(expectOk(c.zc(["--show-config"], { env: { ZCCACHE_LOG_LEVEL: "error" } }), "--show-config").out).toBe(r.out);
    // The same settings as `zccache config`.
    const ours = expectOk(c.zc(["config"], { env: { ZCCACHE_LOG_LEVEL: "error" } }), "config").out;
    expect(ours).toContain("cache_size = 2000000000 (file)");
    expect(ours).toContain("log_level = error (env)");
  });
});

describe("clearing, cleanup and age eviction", () => {
  const c = new CacheEnv(UNSET);

  test("-c runs a cleanup; --evict-older-than keeps fresh entries and drops older ones", () => {
    c.write("e.c", "int compat_e(int x) { return x * 3; }\n");
    expectOk(c.zc(["gcc", "-c", "e.c", "-o", "e.o"]), "miss");
    expect(c.status().entries).toBe(1);
    const clean = expectOk(c.zc(["-c"]), "-c");
    expect(clean.out).toMatch(/^Evicted 0 entries; 1 entries \(.*\) remain\n$/);
    expectOk(c.zc(["--cleanup"]), "--cleanup");
    expect(c.status().entries).toBe(1);

    expectOk(c.zc(["--evict-older-than", "1d"]), "--evict-older-than 1d");
    expectOk(c.zc(["--evict-older-than=12h"]), "--evict-older-than=12h");
    expect(c.status().entries).toBe(1);
    expectOneLineFailure(c.zc(["--evict-older-than", "1y"]), "--evict-older-than 1y");
    expectOneLineFailure(c.zc(["--evict-older-than"]), "--evict-older-than without a value");
    expect(c.status().entries).toBe(1);

    // 0s: everything not used in the last 0 seconds, i.e. all of it.
    const all = expectOk(c.zc(["--evict-older-than", "0s"]), "--evict-older-than 0s");
    expect(all.out).toMatch(/^Evicted 1 entries; 0 entries/);
    const st = c.status();
    expect(st.entries).toBe(0);
    expect(st.evicted).toBeGreaterThanOrEqual(1);
  });

  test("-C and --clear empty the cache like clear", () => {
    expectOk(c.zc(["gcc", "-c", "e.c", "-o", "e.o"]), "miss again");
    expect(c.status().entries).toBe(1);
    const r = expectOk(c.zc(["-C"]), "-C");
    expect(r.out).toBe(expectOk(c.zc(["clear"]), "clear").out);
    expect(c.status().entries).toBe(0);
    expectOk(c.zc(["gcc", "-c", "e.c", "-o", "e.o"]), "miss after clear");
    expect(c.status().misses).toBeGreaterThanOrEqual(2);
    expectOk(c.zc(["--clear"]), "--clear");
    expect(c.status().entries).toBe(0);
  });
});

describe("server control, version and unknown options", () => {
  const c = new CacheEnv(UNSET);

  test("--start-server and --stop-server are start and stop", async () => {
    const up = expectOk(c.zc(["--start-server"]), "--start-server");
    expect(up.out).toMatch(/^zccache daemon \S+ running \(pid \d+\)\n$/);
    await pollDaemons(c, (n) => n === 1, "the daemon");
    expectOk(c.zc(["--stop-server"]), "--stop-server");
    await pollDaemons(c, (n) => n === 0, "the daemon to exit");
    expectOk(c.zc(["start"]), "start");
    await pollDaemons(c, (n) => n === 1, "the daemon");
    expectOk(c.zc(["stop"]), "stop");
    await pollDaemons(c, (n) => n === 0, "the daemon to exit");
  });

  test("-V and --version print what version prints", () => {
    const v = expectOk(c.zc(["version"]), "version").out;
    expect(v).toMatch(/^zccache \S+\n$/);
    expect(expectOk(c.zc(["-V"]), "-V").out).toBe(v);
    expect(expectOk(c.zc(["--version"]), "--version").out).toBe(v);
  });

  test("an unknown option is one line and a non-zero exit", () => {
    for (const bad of [["-Q"], ["--bogus"], ["-sQ"], ["--stats-format", "xml", "-s"], ["--show-stats=yes"]]) {
      expectOneLineFailure(c.zc(bad), bad.join(" "));
    }
    // Nothing was started for them.
    expect(c.daemonPids()).toEqual([]);
  });
});
