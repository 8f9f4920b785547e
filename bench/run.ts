// Side-by-side benchmark: bare compiler, ccache, sccache and zccache on the same files in one
// run, with fresh cache directories per tool. Prints and writes medians, ranges and ratios,
// and checks while it measures: every tool's object must equal the bare compile, and a
// "warm hit" only counts when the tool's own statistics say it hit.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { generatedProject, lz4Project, type Project } from "./projects.ts";
import { CARGO_BIN, debianHasCrate, writeSerdeProgram, writeWorkspace } from "../tests/fixtures/rust/cargo.ts";
import { populate } from "./scale.ts";

const ROOT = path.resolve(import.meta.dir, "..");
const ZCCACHE = path.join(ROOT, "dist", "zccache");
const quick = process.argv.includes("--quick");
const RUNS = quick ? 10 : 30;

type Tool = "bare" | "ccache" | "sccache" | "zccache";
const TOOLS: Tool[] = ["bare", "ccache", "sccache", "zccache"];

interface Measurement {
  case: string;
  mode: "warm-hit" | "cold-miss";
  tool: Tool;
  medianMs: number;
  minMs: number;
  maxMs: number;
  verified: string;
}

function sh(argv: string[], env: Record<string, string | undefined> = process.env, cwd?: string): { code: number; out: string; err: string } {
  const r = Bun.spawnSync(argv, { env: env as Record<string, string>, cwd, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? 1, out: r.stdout.toString(), err: r.stderr.toString() };
}

function need(tool: string, pkg: string): void {
  if (Bun.which(tool) === null) {
    process.stderr.write(`bench: '${tool}' is missing; install it with: apt-get install -y ${pkg}\n`);
    process.exit(2);
  }
}

need("hyperfine", "hyperfine");
need("ccache", "ccache");
need("sccache", "sccache");
need("gcc", "gcc");
need("g++", "g++");
if (!fs.existsSync(ZCCACHE)) {
  process.stderr.write("bench: dist/zccache is missing; run 'npm run build'\n");
  process.exit(2);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "zccache-bench-"));
const dirs = {
  ccache: path.join(work, "ccache"),
  sccache: path.join(work, "sccache"),
  zccache: path.join(work, "zccache"),
};
const env: Record<string, string | undefined> = {
  ...process.env,
  CCACHE_DIR: dirs.ccache,
  SCCACHE_DIR: dirs.sccache,
  SCCACHE_SERVER_PORT: String(4300 + (process.pid % 1000)),
  SCCACHE_IDLE_TIMEOUT: "0",
  ZCCACHE_CACHE_DIR: dirs.zccache,
};

const SOURCES: Record<string, { file: string; text: string; compiler: string }> = {
  "trivial C": { file: "trivial.c", compiler: "gcc", text: "int twice(int x) { return 2 * x; }\n" },
  "C++ with 12 STL headers": {
    file: "stl.cpp",
    compiler: "g++",
    text: `${["vector", "string", "map", "unordered_map", "algorithm", "memory", "functional", "iostream", "sstream", "set", "thread", "regex"]
      .map((h) => `#include <${h}>`)
      .join("\n")}\nint main() { std::vector<std::string> v{"a"}; std::map<int, int> m; std::cout << v.size() + m.size(); return 0; }\n`,
  },
};

function commandFor(tool: Tool, compiler: string, src: string, out: string): string {
  const base = `${compiler} -O2 -c ${src} -o ${out}`;
  switch (tool) {
    case "bare":
      return base;
    case "ccache":
      return `ccache ${base}`;
    case "sccache":
      return `sccache ${base}`;
    case "zccache":
      return `${ZCCACHE} ${base}`;
  }
}

function clearCommand(tool: Tool): string {
  switch (tool) {
    case "bare":
      return "true";
    case "ccache":
      return "ccache -C -z";
    case "sccache":
      return `sh -c 'sccache --stop-server >/dev/null 2>&1; rm -rf ${dirs.sccache}; sccache --start-server >/dev/null 2>&1'`;
    case "zccache":
      return `${ZCCACHE} clear`;
  }
}

function hyperfine(cmd: string, prepare: string | null, runs: number): { median: number; min: number; max: number } {
  const json = path.join(work, "hf.json");
  const args = ["hyperfine", "-N", "--style", "none", "--runs", String(runs), "--export-json", json];
  if (prepare !== null) args.push("--prepare", prepare);
  else args.push("--warmup", "3");
  args.push(cmd);
  const r = sh(args, env, work);
  if (r.code !== 0) throw new Error(`hyperfine failed for ${cmd}: ${r.err}`);
  const res = JSON.parse(fs.readFileSync(json, "utf8")).results[0] as { median: number; min: number; max: number };
  return { median: res.median * 1000, min: res.min * 1000, max: res.max * 1000 };
}

function hitCount(tool: Tool): number {
  switch (tool) {
    case "bare":
      return 0;
    case "ccache": {
      const r = sh(["ccache", "--print-stats"], env);
      const m = /direct_cache_hit\t(\d+)/.exec(r.out);
      const p = /preprocessed_cache_hit\t(\d+)/.exec(r.out);
      return Number(m?.[1] ?? 0) + Number(p?.[1] ?? 0);
    }
    case "sccache": {
      const r = sh(["sccache", "--show-stats", "--stats-format", "json"], env);
      try {
        const j = JSON.parse(r.out) as { stats: { cache_hits: { counts: Record<string, number> } } };
        return Object.values(j.stats.cache_hits.counts).reduce((a, b) => a + b, 0);
      } catch {
        return 0;
      }
    }
    case "zccache": {
      const r = sh([ZCCACHE, "status", "--json"], env);
      return (JSON.parse(r.out) as { hits: number }).hits;
    }
  }
}

const results: Measurement[] = [];
sh(["sccache", "--start-server"], env);
try {
  for (const [name, s] of Object.entries(SOURCES)) {
    fs.writeFileSync(path.join(work, s.file), s.text);
    const bareOut = path.join(work, "bare.o");
    sh(["sh", "-c", commandFor("bare", s.compiler, s.file, bareOut)], env, work);
    const reference = fs.readFileSync(bareOut);
    for (const tool of TOOLS) {
      const out = path.join(work, `${tool}.o`);
      const cmd = commandFor(tool, s.compiler, s.file, out);
      // cold miss: every run starts from an empty cache
      const cold = hyperfine(cmd, clearCommand(tool), Math.max(5, Math.floor(RUNS / 3)));
      results.push({ case: name, mode: "cold-miss", tool, medianMs: cold.median, minMs: cold.min, maxMs: cold.max, verified: "" });
      // warm hit: prime once, then count hits across the measured runs
      sh(["sh", "-c", cmd], env, work);
      const before = hitCount(tool);
      const warm = hyperfine(cmd, null, RUNS);
      const hits = hitCount(tool) - before;
      const same = fs.readFileSync(out).equals(reference);
      const expectHits = tool === "bare" ? 0 : RUNS + 3;
      const verified = `${same ? "object identical" : "OBJECT DIFFERS"}; ${tool === "bare" ? "-" : `${hits}/${expectHits} hits`}`;
      results.push({ case: name, mode: "warm-hit", tool, medianMs: warm.median, minMs: warm.min, maxMs: warm.max, verified });
    }
  }
} finally {
  sh(["sccache", "--stop-server"], env);
  sh([ZCCACHE, "stop"], env);
}

// ---- clean rebuilds of whole projects with a warm cache (make -j2) ----
interface ProjectResult {
  project: string;
  tool: Tool;
  medianMs: number;
  minMs: number;
  maxMs: number;
  verified: string;
}
const projectResults: ProjectResult[] = [];

function relObjects(p: Project): Map<string, Buffer> {
  return new Map(p.objects().map((f) => [path.relative(p.dir, f), fs.readFileSync(f)]));
}

const projects: Project[] = [generatedProject(work)];
// lz4's bare build alone takes ~10 s a run: the full run only.
const lz4 = quick ? null : lz4Project(work, path.join(ROOT, "bench", "work"));
if (!quick && lz4 === null) process.stderr.write("bench: could not fetch lz4 sources with 'npm pack'; skipping that project\n");
if (lz4 !== null) projects.push(lz4);
sh(["sccache", "--start-server"], env);
try {
  for (const p of projects) {
    sh(["sh", "-c", p.clean], env, p.dir);
    const bareBuild = sh(["sh", "-c", p.build("gcc", "ar")], env, p.dir);
    if (bareBuild.code !== 0) throw new Error(`bare build of ${p.name} failed: ${bareBuild.err}`);
    const refOut = sh(["sh", "-c", p.check], env, p.dir).out;
    const refObjs = relObjects(p);
    for (const tool of TOOLS) {
      const prefix = tool === "bare" ? "" : tool === "zccache" ? `${ZCCACHE} ` : `${tool} `;
      const cc = `${prefix}gcc`;
      const ar = tool === "zccache" ? `${ZCCACHE} ar` : "ar";
      sh(["sh", "-c", clearCommand(tool)], env);
      sh(["sh", "-c", `${p.clean} && ${p.build(cc, ar)}`], env, p.dir);
      const before = hitCount(tool);
      const runs = quick ? 3 : 5;
      const json = path.join(work, "hfp.json");
      const r = sh(
        ["hyperfine", "-N", "--style", "none", "--runs", String(runs), "--export-json", json, "--prepare", `sh -c '${p.clean}'`, `sh -c '${p.build(cc, ar).replace(/'/g, "'\\''")}'`],
        env,
        p.dir,
      );
      if (r.code !== 0) throw new Error(`hyperfine failed for ${p.name} with ${tool}: ${r.err}`);
      const res = JSON.parse(fs.readFileSync(json, "utf8")).results[0] as { median: number; min: number; max: number };
      const hits = hitCount(tool) - before;
      const out = sh(["sh", "-c", p.check], env, p.dir).out;
      const objs = relObjects(p);
      let same = objs.size === refObjs.size;
      for (const [k, v] of objs) if (!refObjs.get(k)?.equals(v)) same = false;
      projectResults.push({
        project: p.name,
        tool,
        medianMs: res.median * 1000,
        minMs: res.min * 1000,
        maxMs: res.max * 1000,
        verified: `${same ? `${objs.size} objects identical` : "OBJECTS DIFFER"}; output ${out === refOut ? "same" : "DIFFERS"}; ${tool === "bare" ? "-" : `${(hits / runs).toFixed(0)} hits/run`}`,
      });
    }
  }
} finally {
  sh(["sccache", "--stop-server"], env);
  sh([ZCCACHE, "stop"], env);
}

// ---- cargo build from a clean target with a warm cache ----
interface CargoResult {
  project: string;
  tool: "bare" | "sccache" | "zccache";
  medianMs: number;
  minMs: number;
  maxMs: number;
  verified: string;
}
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
  const cargoEnvFor = (tool: CargoResult["tool"]): Record<string, string | undefined> => {
    const e: Record<string, string | undefined> = { ...env, PATH: `${CARGO_BIN}:${env.PATH}`, CARGO_TERM_PROGRESS_WHEN: "never", CARGO_INCREMENTAL: "0" };
    delete e.RUSTC_WRAPPER;
    if (tool === "sccache") e.RUSTC_WRAPPER = "sccache";
    if (tool === "zccache") e.RUSTC_WRAPPER = ZCCACHE;
    return e;
  };
  const rustHits = (tool: CargoResult["tool"], e: Record<string, string | undefined>): number => {
    if (tool === "zccache") return (JSON.parse(sh([ZCCACHE, "status", "--json"], e).out) as { languages: { rust?: { hits: number } } }).languages.rust?.hits ?? 0;
    if (tool === "sccache") return hitCount("sccache");
    return 0;
  };
  sh(["sccache", "--start-server"], cargoEnvFor("sccache"));
  try {
    for (const p of cargoProjects) {
      const bareEnv = cargoEnvFor("bare");
      sh([cargo, "build", "--offline", "-q"], bareEnv, p.dir);
      const refOut = sh([path.join(p.dir, p.run)], bareEnv, p.dir).out;
      for (const tool of ["bare", "sccache", "zccache"] as const) {
        const e = cargoEnvFor(tool);
        sh([cargo, "clean", "-q"], e, p.dir);
        sh([cargo, "build", "--offline", "-q"], e, p.dir);
        const before = rustHits(tool, e);
        const runs = quick ? 3 : 5;
        const json = path.join(work, "hfc.json");
        const r = sh(
          ["hyperfine", "-N", "--style", "none", "--runs", String(runs), "--export-json", json, "--prepare", `${cargo} clean -q`, `${cargo} build --offline -q`],
          e,
          p.dir,
        );
        if (r.code !== 0) throw new Error(`hyperfine failed for cargo ${p.name} with ${tool}: ${r.err}`);
        const res = JSON.parse(fs.readFileSync(json, "utf8")).results[0] as { median: number; min: number; max: number };
        const hits = rustHits(tool, e) - before;
        const out = sh([path.join(p.dir, p.run)], e, p.dir).out;
        cargoResults.push({
          project: p.name,
          tool,
          medianMs: res.median * 1000,
          minMs: res.min * 1000,
          maxMs: res.max * 1000,
          verified: `output ${out === refOut ? "same" : "DIFFERS"}; ${tool === "bare" ? "-" : `${(hits / runs).toFixed(0)} rustc hits/run`}`,
        });
      }
    }
  } finally {
    sh(["sccache", "--stop-server"], cargoEnvFor("sccache"));
    sh([ZCCACHE, "stop"], env);
  }
} else {
  process.stderr.write("bench: cargo not found; skipping the Rust section\n");
}

// ---- scale: hit latency with a small and a large index, and daemon memory ----
interface ScaleResult {
  entries: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  rssMb: number;
}
const scaleResults: ScaleResult[] = [];
const scaleEntries = quick ? [100, 10_000] : [100, 100_000];
for (const n of scaleEntries) {
  const root = path.join(work, `scale-${n}`);
  const senv = { ...env, ZCCACHE_CACHE_DIR: root };
  fs.mkdirSync(root, { recursive: true });
  populate(root, n);
  fs.writeFileSync(path.join(work, "scale.c"), "int scale(int x) { return x + 1; }\n");
  const cmd = `${ZCCACHE} gcc -O2 -c scale.c -o scale.o`;
  sh(["sh", "-c", cmd], senv, work);
  const json = path.join(work, "hfs.json");
  const r = sh(["hyperfine", "-N", "--style", "none", "--warmup", "3", "--runs", String(RUNS), "--export-json", json, cmd], senv, work);
  if (r.code !== 0) throw new Error(`hyperfine failed for scale ${n}: ${r.err}`);
  const res = JSON.parse(fs.readFileSync(json, "utf8")).results[0] as { median: number; min: number; max: number };
  const status = JSON.parse(sh([ZCCACHE, "status", "--json"], senv).out) as { pid: number; entries: number };
  const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${status.pid}/status`, "utf8"));
  scaleResults.push({ entries: status.entries, medianMs: res.median * 1000, minMs: res.min * 1000, maxMs: res.max * 1000, rssMb: Number(rss?.[1] ?? 0) / 1024 });
  sh([ZCCACHE, "stop"], senv);
}

const cpu = (os.cpus()[0]?.model ?? "unknown CPU").trim();
const lines = [
  `# zccache benchmark`,
  "",
  `${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, ${cpu}; \`npm run bench${quick ? " -- --quick" : ""}\`; hyperfine medians over ${RUNS} runs (cold: ${Math.max(5, Math.floor(RUNS / 3))}).`,
  "",
  "| case | mode | tool | median ms | min–max ms | ratio to zccache | check |",
  "|---|---|---|---:|---:|---:|---|",
];
for (const r of results) {
  const z = results.find((x) => x.case === r.case && x.mode === r.mode && x.tool === "zccache");
  const ratio = z ? (r.medianMs / z.medianMs).toFixed(2) : "-";
  lines.push(
    `| ${r.case} | ${r.mode} | ${r.tool} | ${r.medianMs.toFixed(2)} | ${r.minMs.toFixed(2)}–${r.maxMs.toFixed(2)} | ${ratio} | ${r.verified} |`,
  );
}
lines.push("", "## Clean rebuild with a warm cache (make -j2)", "");
lines.push("| project | tool | median ms | min–max ms | ratio to zccache | check |", "|---|---|---:|---:|---:|---|");
for (const r of projectResults) {
  const z = projectResults.find((x) => x.project === r.project && x.tool === "zccache");
  lines.push(
    `| ${r.project} | ${r.tool} | ${r.medianMs.toFixed(0)} | ${r.minMs.toFixed(0)}–${r.maxMs.toFixed(0)} | ${z ? (r.medianMs / z.medianMs).toFixed(2) : "-"} | ${r.verified} |`,
  );
}
lines.push("", "## cargo build from a clean target with a warm cache", "");
lines.push("| project | tool | median ms | min–max ms | ratio to zccache | check |", "|---|---|---:|---:|---:|---|");
for (const r of cargoResults) {
  const z = cargoResults.find((x) => x.project === r.project && x.tool === "zccache");
  lines.push(
    `| ${r.project} | ${r.tool} | ${r.medianMs.toFixed(0)} | ${r.minMs.toFixed(0)}–${r.maxMs.toFixed(0)} | ${z ? (r.medianMs / z.medianMs).toFixed(2) : "-"} | ${r.verified} |`,
  );
}
lines.push("", "## Store scale (zccache warm hit, trivial C)", "");
lines.push("| entries in store | median ms | min–max ms | ratio to smallest | daemon RSS MB |", "|---:|---:|---:|---:|---:|");
for (const r of scaleResults) {
  const base = scaleResults[0] as ScaleResult;
  lines.push(`| ${r.entries} | ${r.medianMs.toFixed(2)} | ${r.minMs.toFixed(2)}–${r.maxMs.toFixed(2)} | ${(r.medianMs / base.medianMs).toFixed(2)} | ${r.rssMb.toFixed(0)} |`);
}
const md = `${lines.join("\n")}\n`;
fs.mkdirSync(path.join(ROOT, "bench", "results"), { recursive: true });
fs.writeFileSync(path.join(ROOT, "bench", "results", "latest.md"), md);
fs.writeFileSync(
  path.join(ROOT, "bench", "results", "latest.json"),
  `${JSON.stringify({ singleFile: results, projects: projectResults, cargo: cargoResults, scale: scaleResults }, null, 2)}\n`,
);
process.stdout.write(md);
fs.rmSync(work, { recursive: true, force: true });
