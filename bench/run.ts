// Side-by-side benchmark: bare compiler, ccache, sccache and zccache on the same files in one
// run, with fresh cache directories per tool. Prints and writes medians, ranges and ratios,
// and checks while it measures: every tool's object must equal the bare compile, and a
// "warm hit" only counts when the tool's own statistics say it hit.
//   bun bench/run.ts [--quick] [--only relocation|remote|storage|fallback]
// --only relocation measures the relocation section alone (two checkouts of libuv under one
// base dir), --only remote the remote-storage section alone (a second machine building libuv
// from a Redis server the first filled), --only storage the storage section alone (hit cost with
// compression level 0 and 1, store sizes, rebuilds after a daemon restart); each replaces just its
// section in bench/results/latest.{md,json}. --only fallback measures libuv cold builds and a
// trivial miss with preprocessor_fallback off and on.
// ZCCACHE_BENCH_BIN=<path> measures that zccache binary instead of dist/zccache.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { generatedProject, libuvProject, libuvSources, lz4Project, type Project } from "./projects.ts";
import { CARGO_BIN, debianHasCrate, writeSerdeProgram, writeWorkspace } from "../tests/fixtures/rust/cargo.ts";
import { populate } from "./scale.ts";
import { measureFloor } from "./floor.ts";
import { measureProjects } from "./rebuild.ts";
import { backdate, daemonHitMs, type Env, hitCount, hyperfine, launcherFor, makeBench, sh, SINGLE_FILES, type Timing, timingOf, type Tool, TOOLS } from "./harness.ts";
import { type CargoResult, markdown, type Measurement, type Results, type ScaleResult } from "./report.ts";
import { CASES, measureRelocation, type RelocationResult } from "./relocation.ts";
import { measureRemote, type RemoteResult } from "./remote.ts";
import { type CargoProject, measureStorage, type StorageResult } from "./storage.ts";
import { type FallbackResult, measureFallback } from "./fallback.ts";

const ROOT = path.resolve(import.meta.dir, "..");
const quick = process.argv.includes("--quick");
const SECTIONS = ["relocation", "remote", "storage", "fallback"] as const;
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt < 0 ? null : (process.argv[onlyAt + 1] ?? "");
if (only !== null && !(SECTIONS as readonly string[]).includes(only)) {
  process.stderr.write(`bench: --only takes one of: ${SECTIONS.join(", ")}\n`);
  process.exit(2);
}
const RUNS = quick ? 10 : 30;
const COLD_RUNS = Math.max(5, Math.floor(RUNS / 3));
/** Measured warm runs per tool and round (RUNS in all); the rounds interleave the tools. */
const WARM_PER_ROUND = 5;
/** Hits between the warm-hit runs and the warm-hit-later runs of a single file. */
const LATER_HITS = quick ? 100 : 300;
const PROJECT_RUNS = quick ? 3 : 5;

function need(tool: string, pkg: string): void {
  if (Bun.which(tool) === null) {
    process.stderr.write(`bench: '${tool}' is missing; install it with: apt-get install -y ${pkg}\n`);
    process.exit(2);
  }
}

need("ccache", "ccache");
need("gcc", "gcc");
if (only === null) {
  need("hyperfine", "hyperfine");
  need("sccache", "sccache");
  need("g++", "g++");
} else {
  need("cmake", "cmake");
  if (only === "remote") need("redis-server", "redis-server");
  if (only === "storage" || only === "fallback") need("hyperfine", "hyperfine");
}
const b = makeBench(ROOT, fs.mkdtempSync(path.join(os.tmpdir(), "zccache-bench-")));
const { work, env } = b;
if (!fs.existsSync(b.zccache)) {
  process.stderr.write(`bench: ${b.zccache} is missing; run 'npm run build' (or point ZCCACHE_BENCH_BIN at a build)\n`);
  process.exit(2);
}
const startedAt = Date.now();
const progress = (what: string): void => {
  process.stderr.write(`bench: [${((Date.now() - startedAt) / 1000).toFixed(0)} s] ${what}\n`);
};
const RESULTS = path.join(ROOT, "bench", "results");

function writeResults(all: Results): void {
  const md = markdown(all);
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, "latest.md"), md);
  fs.writeFileSync(path.join(RESULTS, "latest.json"), `${JSON.stringify(all, null, 2)}\n`);
  process.stdout.write(md);
}

/** "<when> UTC, <command>, zccache <binary>, <ccache version>; <seconds> s." for a section measured on its own. */
function sectionHeader(section: (typeof SECTIONS)[number], started: number, extra = ""): string {
  const ccacheVersion = sh(["ccache", "--version"], env).out.split("\n")[0] ?? "ccache";
  const shownBin = path.relative(ROOT, b.zccache).startsWith("..") ? b.zccache : path.relative(ROOT, b.zccache);
  const command = only === null ? "the full run" : `\`bun bench/run.ts --only ${section}${quick ? " --quick" : ""}\``;
  return (
    `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${command}, zccache \`${shownBin}\`, ${ccacheVersion}${extra}; ` +
    `${((Date.now() - started) / 1000).toFixed(0)} s.`
  );
}

/** The relocation section; null when libuv's sources cannot be fetched. --quick: one case. */
function relocation(): { rows: RelocationResult[]; header: string } | null {
  const started = Date.now();
  const root = path.join(work, "relocation");
  fs.mkdirSync(root, { recursive: true });
  const sources = libuvSources(root, path.join(ROOT, "bench", "work"));
  if (sources === null) return null;
  const rows = measureRelocation(b, sources, root, quick ? CASES.filter(([, t]) => t === "Release").slice(0, 1) : CASES, progress);
  return { rows, header: sectionHeader("relocation", started) };
}

/**
 * The remote-storage section: a second machine building libuv from a Redis server the first
 * filled; null when libuv's sources cannot be fetched. --quick: one timed build per tool.
 */
async function remote(): Promise<{ result: RemoteResult; header: string } | null> {
  const started = Date.now();
  const root = path.join(work, "remote");
  fs.mkdirSync(root, { recursive: true });
  const sources = libuvSources(root, path.join(ROOT, "bench", "work"));
  if (sources === null) return null;
  const loadBefore = os.loadavg()[0] ?? 0;
  const result = await measureRemote(b, sources, root, quick ? 1 : 3, progress);
  const redisVersion = /v=(\S+)/.exec(sh(["redis-server", "--version"], env).out)?.[1];
  // The machine may be shared: its load says how much to trust the times.
  const load = `, 1-min load average ${loadBefore.toFixed(1)} at the start and ${(os.loadavg()[0] ?? 0).toFixed(1)} at the end on ${os.cpus().length} cores`;
  return { result, header: sectionHeader("remote", started, `${redisVersion === undefined ? "" : `, redis-server ${redisVersion}`}${load}`) };
}

/**
 * The storage section: zccache's hit cost with compression level 0 and 1 next to ccache, store
 * sizes after a cold build of each project, and warm rebuilds right after a daemon restart.
 * --quick: fewer rounds, and lz4 left out (its one big compile is ~25 s a cold build).
 */
function storage(): { result: StorageResult; header: string } {
  const started = Date.now();
  const root = path.join(work, "storage");
  const projectsRoot = path.join(root, "projects");
  fs.mkdirSync(projectsRoot, { recursive: true });
  const fetched = path.join(ROOT, "bench", "work");
  const projects: Project[] = [generatedProject(projectsRoot)];
  if (!quick) {
    const lz4 = lz4Project(projectsRoot, fetched);
    if (lz4 !== null) projects.push(lz4);
    else process.stderr.write("bench: could not fetch lz4 sources with 'npm pack'; storage section without lz4\n");
  }
  const libuv = Bun.which("cmake") === null ? null : libuvProject(projectsRoot, fetched);
  if (libuv !== null) projects.push(libuv);
  else process.stderr.write("bench: no cmake, or no libuv1 sources; storage section without libuv\n");
  let cargoProject: CargoProject | null = null;
  if (CARGO_BIN !== null) {
    const serde = debianHasCrate("serde_json");
    const dir = path.join(projectsRoot, serde ? "rust-serde" : "rust-ws");
    if (serde) writeSerdeProgram(dir, "orders");
    else writeWorkspace(dir);
    const cargoEnv: Env = { ...env, PATH: `${CARGO_BIN}:${env.PATH}`, CARGO_TERM_PROGRESS_WHEN: "never", CARGO_INCREMENTAL: "0" };
    cargoProject = {
      name: serde ? "serde + serde_json program (Debian crates, 17 crates)" : "5-crate workspace (proc-macro, build script, bin)",
      dir,
      cargo: path.join(CARGO_BIN, "cargo"),
      env: cargoEnv,
    };
  } else {
    process.stderr.write("bench: cargo not found; storage section without the cargo rebuild\n");
  }
  const loadBefore = os.loadavg()[0] ?? 0;
  const result = measureStorage(b, root, projects, cargoProject, { rounds: quick ? 2 : 6, runs: quick ? 3 : PROJECT_RUNS }, progress);
  const load = `, 1-min load average ${loadBefore.toFixed(1)} at the start and ${(os.loadavg()[0] ?? 0).toFixed(1)} at the end on ${os.cpus().length} cores`;
  return { result, header: sectionHeader("storage", started, load) };
}

/**
 * The preprocessor-fallback section: cold builds of libuv with the lookup by preprocessed text
 * off and on, next to ccache and bare, and a trivial miss with it off and on; null without
 * libuv's sources. --quick: one round.
 */
function fallback(): { result: FallbackResult; header: string } | null {
  const started = Date.now();
  const root = path.join(work, "fallback");
  fs.mkdirSync(root, { recursive: true });
  const libuv = libuvProject(root, path.join(ROOT, "bench", "work"));
  if (libuv === null) return null;
  const loadBefore = os.loadavg()[0] ?? 0;
  const result = measureFallback(b, libuv, root, { rounds: quick ? 1 : 3, missRuns: quick ? 10 : 20 }, progress);
  const load = `, 1-min load average ${loadBefore.toFixed(1)} at the start and ${(os.loadavg()[0] ?? 0).toFixed(1)} at the end on ${os.cpus().length} cores`;
  return { result, header: sectionHeader("fallback", started, load) };
}

if (only !== null) {
  const patch: Partial<Results> = {};
  if (only === "relocation") {
    const r = relocation();
    if (r !== null) Object.assign(patch, { relocation: r.rows, relocationHeader: r.header });
  } else if (only === "storage") {
    const r = storage();
    Object.assign(patch, { storage: r.result, storageHeader: r.header });
  } else if (only === "fallback") {
    const r = fallback();
    if (r !== null) Object.assign(patch, { fallback: r.result, fallbackHeader: r.header });
  } else {
    const r = await remote();
    if (r !== null) Object.assign(patch, { remote: r.result, remoteHeader: r.header });
  }
  fs.rmSync(work, { recursive: true, force: true });
  if (Object.keys(patch).length === 0) {
    process.stderr.write("bench: no cmake, or could not fetch Debian's libuv1 sources with apt-get source\n");
    process.exit(2);
  }
  // The other sections stay as the last full run measured them.
  const latest = path.join(RESULTS, "latest.json");
  const previous: Results = fs.existsSync(latest)
    ? (JSON.parse(fs.readFileSync(latest, "utf8")) as Results)
    : { header: `Only the ${only} section has been measured.`, singleFile: [], floor: [], projects: [], cargo: [], scale: [] };
  writeResults({ ...previous, ...patch });
  process.exit(0);
}

const SOURCES = SINGLE_FILES;

function commandFor(tool: Tool, compiler: string, src: string, out: string): string {
  const base = `${compiler} -O2 -c ${src} -o ${out}`;
  return tool === "bare" ? base : `${launcherFor(b, tool)} ${base}`;
}

const results: Measurement[] = [];
sh(["sccache", "--start-server"], env);
try {
  for (const [name, s] of Object.entries(SOURCES)) {
    progress(`single file: ${name}`);
    const src = path.join(work, s.file);
    const writeSource = (): void => {
      fs.writeFileSync(src, s.text);
      backdate(src);
    };
    writeSource();
    // A cold miss compiles a source no cache has seen, as a build meets one after an edit:
    // before each run the file gets one new constant (so the preprocessed text differs too).
    // The caches stay as they are, daemons and servers up: what is measured is the compile.
    fs.writeFileSync(`${src}.base`, s.text);
    const freshSource = `sh -c 'cp ${src}.base ${src} && printf "static const long zc_bench_seed = %sL;\\n" "$(date +%s%N)" >> ${src}'`;
    const bareOut = path.join(work, "bare.o");
    sh(["sh", "-c", commandFor("bare", s.compiler, s.file, bareOut)], env, work);
    const reference = fs.readFileSync(bareOut);
    const outOf = (tool: Tool): string => path.join(work, `${tool}.o`);
    const cmdOf = (tool: Tool): string => commandFor(tool, s.compiler, s.file, outOf(tool));
    const caches = TOOLS.filter((t) => t !== "bare");
    /**
     * `rounds` rounds, each measuring every tool once (`perRound` runs), the order rotating
     * from round to round: a machine whose speed drifts moves every tool alike. Medians over
     * all runs; hits by each tool's own count.
     */
    const inRounds = (tools: readonly Tool[], rounds: number, opts: { perRound: number; prepare?: string }): Map<Tool, { t: Timing; hits: number }> => {
      const times = new Map<Tool, number[]>(tools.map((t) => [t, []]));
      const hits = new Map<Tool, number>(tools.map((t) => [t, 0]));
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < tools.length; i++) {
          const tool = tools[(round + i) % tools.length] as Tool;
          const before = tool === "bare" ? 0 : hitCount(b, tool);
          const t = hyperfine(b, cmdOf(tool), { runs: opts.perRound, prepare: opts.prepare });
          (times.get(tool) as number[]).push(...t.times);
          if (tool !== "bare") hits.set(tool, (hits.get(tool) as number) + hitCount(b, tool) - before);
        }
      }
      return new Map(tools.map((t) => [t, { t: timingOf(times.get(t) as number[]), hits: hits.get(t) as number }]));
    };
    const objectCheck = (tool: Tool): string => (fs.readFileSync(outOf(tool)).equals(reference) ? "object identical" : "OBJECT DIFFERS");

    // Cold misses: one run per tool and round, each after a fresh constant.
    const cold = inRounds(TOOLS, COLD_RUNS, { perRound: 1, prepare: freshSource });
    for (const tool of TOOLS) {
      const c = cold.get(tool) as { t: Timing; hits: number };
      // A cold run the cache answered would not be a cold miss: expected "0/N hits".
      const verified = tool === "bare" ? "-" : `${c.hits}/${COLD_RUNS} hits`;
      results.push({ case: name, mode: "cold-miss", tool, medianMs: c.t.median, minMs: c.t.min, maxMs: c.t.max, verified });
    }

    // Warm hits: the source back as it was, each cache primed once; then rounds of 3 warm-up
    // and WARM_PER_ROUND measured runs per tool. Bare has no cache: its "warm" run is the cold
    // one again, measured alone with fewer runs.
    writeSource();
    const bareWarm = hyperfine(b, cmdOf("bare"), { runs: COLD_RUNS });
    results.push({ case: name, mode: "warm-hit", tool: "bare", medianMs: bareWarm.median, minMs: bareWarm.min, maxMs: bareWarm.max, verified: `${objectCheck("bare")}; -` });
    for (const tool of caches) sh(["sh", "-c", cmdOf(tool)], env, work);
    const rounds = RUNS / WARM_PER_ROUND;
    const expected = rounds * (WARM_PER_ROUND + 3);
    /** zccache's rows also say how long its daemon took per hit (issue 11 asks for the C++ case). */
    const daemonPart = (tool: Tool, sinceMs: number): string => {
      if (tool !== "zccache") return "";
      const d = daemonHitMs(b, s.file, sinceMs);
      if (d === null) process.stderr.write(`bench: no zccache hits of ${s.file} in its compile journal; its row goes without the daemon's time\n`);
      return d === null ? "" : `; daemon ${d.median.toFixed(2)} ms per hit (${d.min.toFixed(2)}–${d.max.toFixed(2)})`;
    };
    const warmFrom = Date.now();
    const warm = inRounds(caches, rounds, { perRound: WARM_PER_ROUND });
    for (const tool of caches) {
      const w = warm.get(tool) as { t: Timing; hits: number };
      const verified = `${objectCheck(tool)}; ${w.hits}/${expected} hits${daemonPart(tool, warmFrom)}`;
      results.push({ case: name, mode: "warm-hit", tool, medianMs: w.t.median, minMs: w.t.min, maxMs: w.t.max, verified });
    }
    // The same again once every cache has answered LATER_HITS more: zccache's daemon started
    // in this section's first cold run, and a daemon answers its first few hundred hits (of a
    // path: the C++ case's follow the trivial one's) more slowly (README, "A fresh daemon").
    // ccache and sccache have no such start to get past.
    for (const tool of caches) hyperfine(b, cmdOf(tool), { runs: LATER_HITS });
    const laterFrom = Date.now();
    const later = inRounds(caches, rounds, { perRound: WARM_PER_ROUND });
    for (const tool of caches) {
      const w = later.get(tool) as { t: Timing; hits: number };
      results.push({
        case: name,
        mode: "warm-hit-later",
        tool,
        medianMs: w.t.median,
        minMs: w.t.min,
        maxMs: w.t.max,
        verified: `${objectCheck(tool)}; ${w.hits}/${expected} hits${daemonPart(tool, laterFrom)}`,
      });
    }
    // And the cold misses again, now that zccache's daemon has answered a few hundred requests.
    const coldLater = inRounds(TOOLS, COLD_RUNS, { perRound: 1, prepare: freshSource });
    for (const tool of TOOLS) {
      const c = coldLater.get(tool) as { t: Timing; hits: number };
      const verified = tool === "bare" ? "-" : `${c.hits}/${COLD_RUNS} hits`;
      results.push({ case: name, mode: "cold-miss-later", tool, medianMs: c.t.median, minMs: c.t.min, maxMs: c.t.max, verified });
    }
  }
} finally {
  sh(["sccache", "--stop-server"], env);
  sh([b.zccache, "stop"], env);
}

progress("launcher floor");
const floorResults = measureFloor(b, RUNS);

// ---- clean rebuilds of whole projects with a warm cache (make -j2) ----
const projects: Project[] = [generatedProject(work)];
// Each real project's bare build alone takes 10-25 s a run: the full run only.
if (!quick) {
  const lz4 = lz4Project(work, path.join(ROOT, "bench", "work"));
  if (lz4 !== null) projects.push(lz4);
  else process.stderr.write("bench: could not fetch lz4 sources with 'npm pack'; skipping that project\n");
  const libuv = Bun.which("cmake") === null ? null : libuvProject(work, path.join(ROOT, "bench", "work"));
  if (libuv !== null) projects.push(libuv);
  else process.stderr.write("bench: no cmake, or could not fetch Debian's libuv1 sources with apt-get source; skipping that project\n");
  // The same sources through CMake's Ninja generator, whose own steps cost far less than the
  // Makefile generator's (a cmake process per object for its progress lines).
  if (libuv !== null && Bun.which("ninja") === null) process.stderr.write("bench: no ninja; skipping libuv with CMake's Ninja generator\n");
  else if (libuv !== null) {
    const libuvNinja = libuvProject(work, path.join(ROOT, "bench", "work"), "ninja");
    if (libuvNinja !== null) projects.push(libuvNinja);
    else process.stderr.write("bench: could not unpack a second copy of libuv's sources; skipping libuv with CMake's Ninja generator\n");
  }
}
const projectResults = measureProjects(b, projects, PROJECT_RUNS, progress);

// ---- relocation: a second checkout under one base dir (real project: the full run only) ----
let relocationResults: { rows: RelocationResult[]; header: string } | null = null;
if (!quick) {
  relocationResults = Bun.which("cmake") === null ? null : relocation();
  if (relocationResults === null) process.stderr.write("bench: no cmake, or no libuv1 sources; skipping the relocation section\n");
}

// ---- remote storage: a second machine from a shared Redis (real project: the full run only) ----
let remoteResults: { result: RemoteResult; header: string } | null = null;
if (!quick) {
  if (Bun.which("cmake") === null || Bun.which("redis-server") === null) {
    process.stderr.write("bench: no cmake or no redis-server; skipping the remote-storage section\n");
  } else {
    remoteResults = await remote();
    if (remoteResults === null) process.stderr.write("bench: no libuv1 sources; skipping the remote-storage section\n");
  }
}

// ---- storage: compression's hit cost, store sizes, rebuilds after a daemon restart ----
progress("storage");
const storageResults = storage();

// ---- cargo build from a clean target with a warm cache ----
const cargoResults: CargoResult[] = [];
if (CARGO_BIN !== null) {
  const cargo = path.join(CARGO_BIN, "cargo");
  const cargoProjects: { name: string; dir: string; run: string }[] = [];
  const ws = path.join(work, "rust-ws");
  writeWorkspace(ws);
  cargoProjects.push({ name: "5-crate workspace (proc-macro, build script, bin)", dir: ws, run: "target/debug/app" });
  if (!quick && debianHasCrate("serde_json")) {
    const serde = path.join(work, "rust-serde");
    writeSerdeProgram(serde, "orders");
    cargoProjects.push({ name: "serde + serde_json program (Debian crates, 17 crates)", dir: serde, run: "target/debug/orders" });
  }
  const cargoEnvFor = (tool: CargoResult["tool"]): Env => {
    const e: Env = { ...env, PATH: `${CARGO_BIN}:${env.PATH}`, CARGO_TERM_PROGRESS_WHEN: "never", CARGO_INCREMENTAL: "0" };
    delete e.RUSTC_WRAPPER;
    if (tool === "sccache") e.RUSTC_WRAPPER = "sccache";
    if (tool === "zccache") e.RUSTC_WRAPPER = b.zccache;
    return e;
  };
  const rustHits = (tool: CargoResult["tool"], e: Env): number => {
    if (tool === "zccache") return (JSON.parse(sh([b.zccache, "status", "--json"], e).out) as { languages: { rust?: { hits: number } } }).languages.rust?.hits ?? 0;
    if (tool === "sccache") return hitCount(b, "sccache");
    return 0;
  };
  sh(["sccache", "--start-server"], cargoEnvFor("sccache"));
  try {
    for (const p of cargoProjects) {
      progress(`cargo: ${p.name}`);
      const bareEnv = cargoEnvFor("bare");
      sh([cargo, "build", "--offline", "-q"], bareEnv, p.dir);
      const refOut = sh([path.join(p.dir, p.run)], bareEnv, p.dir).out;
      // Fill both caches, then build from a clean target in interleaved rounds (the order
      // rotating), as the project section does: this VM's speed drifts within minutes.
      // Bare builds run in the first rounds only: they are slow, and few do.
      for (const tool of ["sccache", "zccache"] as const) {
        sh([cargo, "clean", "-q"], cargoEnvFor(tool), p.dir);
        sh([cargo, "build", "--offline", "-q"], cargoEnvFor(tool), p.dir);
      }
      const tools = ["bare", "sccache", "zccache"] as const;
      const times: Record<(typeof tools)[number], number[]> = { bare: [], sccache: [], zccache: [] };
      const hits: Record<(typeof tools)[number], number> = { bare: 0, sccache: 0, zccache: 0 };
      const same: Record<(typeof tools)[number], boolean> = { bare: true, sccache: true, zccache: true };
      for (let round = 0; round < PROJECT_RUNS; round++) {
        for (let i = 0; i < tools.length; i++) {
          const tool = tools[(i + round) % tools.length] as (typeof tools)[number];
          if (tool === "bare" && round >= Math.min(PROJECT_RUNS, 3)) continue;
          const e = cargoEnvFor(tool);
          const before = rustHits(tool, e);
          const t = hyperfine(b, `${cargo} build --offline -q`, { runs: 1, prepare: `${cargo} clean -q`, cwd: p.dir, env: e });
          times[tool].push(t.median);
          hits[tool] += rustHits(tool, e) - before;
          if (sh([path.join(p.dir, p.run)], e, p.dir).out !== refOut) same[tool] = false;
        }
      }
      for (const tool of tools) {
        const t = timingOf(times[tool]);
        const n = times[tool].length;
        cargoResults.push({
          project: p.name,
          tool,
          medianMs: t.median,
          minMs: t.min,
          maxMs: t.max,
          verified: `output ${same[tool] ? "same" : "DIFFERS"}; ${tool === "bare" ? "-" : `${(hits[tool] / n).toFixed(0)} rustc hits/run`}`,
        });
      }
    }
  } finally {
    sh(["sccache", "--stop-server"], cargoEnvFor("sccache"));
    sh([b.zccache, "stop"], env);
  }
} else {
  process.stderr.write("bench: cargo not found; skipping the Rust section\n");
}

// ---- scale: hit latency with a small and a large index, and daemon memory ----
const scaleResults: ScaleResult[] = [];
const scaleEntries = quick ? [100, 10_000] : [100, 100_000];
fs.writeFileSync(path.join(work, "scale.c"), "int scale(int x) { return x + 1; }\n");
backdate(path.join(work, "scale.c"));
for (const n of scaleEntries) {
  progress(`store scale: ${n} entries`);
  const root = path.join(work, `scale-${n}`);
  const senv = { ...env, ZCCACHE_CACHE_DIR: root };
  fs.mkdirSync(root, { recursive: true });
  populate(root, n);
  const cmd = `${b.zccache} gcc -O2 -c scale.c -o scale.o`;
  sh(["sh", "-c", cmd], senv, work);
  const t = hyperfine(b, cmd, { runs: RUNS, env: senv });
  const status = JSON.parse(sh([b.zccache, "status", "--json"], senv).out) as { pid: number; entries: number };
  const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${status.pid}/status`, "utf8"));
  scaleResults.push({ entries: status.entries, medianMs: t.median, minMs: t.min, maxMs: t.max, rssMb: Number(rss?.[1] ?? 0) / 1024 });
  sh([b.zccache, "stop"], senv);
}

const cpu = (os.cpus()[0]?.model ?? "unknown CPU").trim();
const header =
  `${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, ${cpu}; \`npm run bench${quick ? " -- --quick" : ""}\`; ` +
  `hyperfine medians over ${RUNS} runs (cold and bare: ${COLD_RUNS}; projects and cargo: ${PROJECT_RUNS} interleaved rounds, lz4 and bare builds: ${Math.min(PROJECT_RUNS, 3)}); total ${((Date.now() - startedAt) / 60_000).toFixed(1)} min.`;
const all: Results = { header, singleFile: results, floor: floorResults, projects: projectResults, cargo: cargoResults, scale: scaleResults };
if (relocationResults !== null) {
  all.relocation = relocationResults.rows;
  all.relocationHeader = relocationResults.header;
}
if (remoteResults !== null) {
  all.remote = remoteResults.result;
  all.remoteHeader = remoteResults.header;
}
all.storage = storageResults.result;
all.storageHeader = storageResults.header;
writeResults(all);
fs.rmSync(work, { recursive: true, force: true });
