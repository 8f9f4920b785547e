// Turns the measurements into bench/results/latest.md: tables with ratios to ccache (sccache for
// cargo, which ccache cannot wrap) and one line per issue-11 target saying whether it was met.
import type { FloorResult } from "./floor.ts";
import type { Tool } from "./harness.ts";
import type { RelocationResult } from "./relocation.ts";
import type { RemoteResult, RemoteTool } from "./remote.ts";
import type { FallbackResult } from "./fallback.ts";
import { type HitTool, median, type RestartRun, RUNS_PER_ROUND, type StorageResult } from "./storage.ts";

export interface Measurement {
  case: string;
  /** warm-hit-later: the warm-hit runs again after LATER_HITS more hits (a daemon past its start). */
  mode: "warm-hit" | "warm-hit-later" | "cold-miss" | "cold-miss-later";
  tool: Tool;
  medianMs: number;
  minMs: number;
  maxMs: number;
  verified: string;
}

export interface ProjectResult {
  project: string;
  /** "instant": the floor, every compile a copy from a stash (bench/instant-cache.c). */
  tool: Tool | "instant";
  /** For "instant": every compile was a copy (a compile it could not answer makes it no floor). */
  floor?: boolean;
  medianMs: number;
  minMs: number;
  maxMs: number;
  verified: string;
}

export interface CargoResult {
  project: string;
  tool: "bare" | "sccache" | "zccache";
  medianMs: number;
  minMs: number;
  maxMs: number;
  verified: string;
}

export interface ScaleResult {
  entries: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  rssMb: number;
}

export interface Results {
  header: string;
  singleFile: Measurement[];
  floor: FloorResult[];
  projects: ProjectResult[];
  cargo: CargoResult[];
  scale: ScaleResult[];
  /** Absent in results written before the relocation section existed. */
  relocation?: RelocationResult[];
  /** When and with which binary the relocation section was measured (`--only relocation` reruns it alone). */
  relocationHeader?: string;
  /** Absent in results written before the remote-storage section existed. */
  remote?: RemoteResult;
  /** When and with which binary the remote-storage section was measured (`--only remote` reruns it alone). */
  remoteHeader?: string;
  /** Absent in results written before the storage section existed. */
  storage?: StorageResult;
  /** When and with which binary the storage section was measured (`--only storage` reruns it alone). */
  storageHeader?: string;
  /** Absent in results written before the preprocessor-fallback section existed. */
  fallback?: FallbackResult;
  /** When and with which binary it was measured (`--only fallback` reruns it alone). */
  fallbackHeader?: string;
}

const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? "-" : (a / b).toFixed(2));

function targets(r: Results): string[] {
  const single = (c: string, mode: Measurement["mode"], tool: Tool): number | undefined =>
    r.singleFile.find((x) => x.case === c && x.mode === mode && x.tool === tool)?.medianMs;
  const project = (p: string, tool: Tool | "instant"): number | undefined => r.projects.find((x) => x.project === p && x.tool === tool)?.medianMs;
  const line = (what: string, z: number | undefined, base: number | undefined, baseName: string, max: number): string => {
    if (z === undefined || base === undefined) return `- ${what}: not measured in this run (target ≤ ${max}x ${baseName})`;
    const x = z / base;
    return `- ${what}: zccache ${z.toFixed(z < 100 ? 2 : 0)} ms / ${baseName} ${base.toFixed(base < 100 ? 2 : 0)} ms = **${x.toFixed(2)}x** (target ≤ ${max}x): ${x <= max ? "met" : "NOT met"}`;
  };
  // The same runs once zccache's daemon is past its first few hundred hits: shown, not judged.
  const later = (c: string): string[] => {
    const z = single(c, "warm-hit-later", "zccache");
    const cc = single(c, "warm-hit-later", "ccache");
    return z === undefined || cc === undefined
      ? []
      : [`  - warm-hit-later (the same runs after 300 more hits; 100 with --quick): zccache ${z.toFixed(2)} ms / ccache ${cc.toFixed(2)} ms = ${(z / cc).toFixed(2)}x`];
  };
  const out = [
    line("warm hit, trivial C", single("trivial C", "warm-hit", "zccache"), single("trivial C", "warm-hit", "ccache"), "ccache", 0.6),
    ...later("trivial C"),
    line(
      "warm hit, C++ with 12 STL headers",
      single("C++ with 12 STL headers", "warm-hit", "zccache"),
      single("C++ with 12 STL headers", "warm-hit", "ccache"),
      "ccache",
      0.5,
    ),
    ...later("C++ with 12 STL headers"),
  ];
  for (const p of [...new Set(r.projects.map((x) => x.project))]) {
    out.push(line(`clean rebuild with a warm cache, ${p}`, project(p, "zccache"), project(p, "ccache"), "ccache", 0.8));
    const floorRow = r.projects.find((x) => x.project === p && x.tool === "instant");
    const floor = floorRow?.floor === true ? floorRow.medianMs : undefined;
    const cc = project(p, "ccache");
    if (floor !== undefined && cc !== undefined) {
      out.push(`  - the floor of this rebuild (every compile a plain copy from a stash): ${floor.toFixed(0)} ms = ${(floor / cc).toFixed(2)}x ccache`);
    }
  }
  out.push(line("cold miss, trivial C", single("trivial C", "cold-miss", "zccache"), single("trivial C", "cold-miss", "bare"), "bare gcc", 1.15));
  const zLater = single("trivial C", "cold-miss-later", "zccache");
  const bLater = single("trivial C", "cold-miss-later", "bare");
  if (zLater !== undefined && bLater !== undefined) {
    out.push(`  - cold-miss-later (the same after the warm-hit rounds): zccache ${zLater.toFixed(2)} ms / bare gcc ${bLater.toFixed(2)} ms = ${(zLater / bLater).toFixed(2)}x`);
  }
  const realCrates = r.cargo.filter((x) => x.project.startsWith("serde"));
  out.push(
    line(
      "cargo build from a clean target with a warm cache, serde + serde_json program",
      realCrates.find((x) => x.tool === "zccache")?.medianMs,
      realCrates.find((x) => x.tool === "sccache")?.medianMs,
      "sccache",
      0.1,
    ),
  );
  return out;
}

export function markdown(r: Results): string {
  const lines = [`# zccache benchmark`, "", r.header, "", "## Single files", ""];
  lines.push(
    "The tools are measured in rounds, each round running every tool, the order rotating from round to round (a machine whose speed drifts then moves every tool alike). " +
      "cold-miss: one run per tool and round, before each the source gets one new constant (a source no cache has seen, as after an edit); caches, daemons and servers stay up. " +
      "warm-hit: each cache primed once, then per round 3 warm-up and 5 measured runs per tool. zccache's daemon starts in the first case's first cold run and serves both cases: its trivial-C rows are a fresh daemon's, its C++ rows the first of that path. Bare's warm-hit row is its compile again, measured alone. " +
      "warm-hit-later: the same rounds again after 300 more hits per tool (100 with --quick); cold-miss-later: the cold rounds again after those. " +
      "zccache's warm rows also give its daemon's own time per hit over all the rows' hits, warm-ups included: `latency_ms` in its compile journal, from after a request is decoded to its result (the C++ file reads 269 headers).",
    "",
  );
  lines.push("| case | mode | tool | median ms | min–max ms | ratio to ccache | check |", "|---|---|---|---:|---:|---:|---|");
  for (const m of r.singleFile) {
    const c = r.singleFile.find((x) => x.case === m.case && x.mode === m.mode && x.tool === "ccache");
    lines.push(
      `| ${m.case} | ${m.mode} | ${m.tool} | ${m.medianMs.toFixed(2)} | ${m.minMs.toFixed(2)}–${m.maxMs.toFixed(2)} | ${ratio(m.medianMs, c?.medianMs)} | ${m.verified} |`,
    );
  }
  lines.push("", "## Launcher floor (empty translation unit, warm)", "");
  lines.push("| what | command | median ms | min–max ms | ratio to ccache hit | check |", "|---|---|---:|---:|---:|---|");
  const ccacheFloor = r.floor.find((x) => x.command.startsWith("ccache"))?.medianMs;
  for (const f of r.floor) {
    lines.push(
      `| ${f.what} | \`${f.command}\` | ${f.medianMs.toFixed(2)} | ${f.minMs.toFixed(2)}–${f.maxMs.toFixed(2)} | ${ratio(f.medianMs, ccacheFloor)} | ${f.verified || "-"} |`,
    );
  }
  lines.push("", "## Clean rebuild with a warm cache (make -j2; ninja -j2 for the Ninja row)", "");
  lines.push(
    "Each tool's cache is filled by one build; then rounds of a clean (`make clean`, `ninja clean`) and a timed build, each round building once with every cache and the floor (instant), " +
      "the order rotating from round to round, so a machine whose speed drifts moves every tool alike. Bare builds, the reference, run first, one after another. " +
      "Objects and program output are compared with the first bare build after every build.",
    "",
  );
  lines.push("| project | tool | median ms | min–max ms | ratio to ccache | check |", "|---|---|---:|---:|---:|---|");
  for (const p of r.projects) {
    const c = r.projects.find((x) => x.project === p.project && x.tool === "ccache");
    lines.push(`| ${p.project} | ${p.tool} | ${p.medianMs.toFixed(0)} | ${p.minMs.toFixed(0)}–${p.maxMs.toFixed(0)} | ${ratio(p.medianMs, c?.medianMs)} | ${p.verified} |`);
  }
  lines.push("", "## cargo build from a clean target with a warm cache", "");
  lines.push("| project | tool | median ms | min–max ms | ratio to sccache | check |", "|---|---|---:|---:|---:|---|");
  for (const p of r.cargo) {
    const s = r.cargo.find((x) => x.project === p.project && x.tool === "sccache");
    lines.push(`| ${p.project} | ${p.tool} | ${p.medianMs.toFixed(0)} | ${p.minMs.toFixed(0)}–${p.maxMs.toFixed(0)} | ${ratio(p.medianMs, s?.medianMs)} | ${p.verified} |`);
  }
  lines.push("", "## Store scale (zccache warm hit, trivial C)", "");
  lines.push("| entries in store | median ms | min–max ms | ratio to smallest | daemon RSS MB |", "|---:|---:|---:|---:|---:|");
  const base = r.scale[0]?.medianMs;
  for (const s of r.scale) {
    lines.push(`| ${s.entries} | ${s.medianMs.toFixed(2)} | ${s.minMs.toFixed(2)}–${s.maxMs.toFixed(2)} | ${ratio(s.medianMs, base)} | ${s.rssMb.toFixed(0)} |`);
  }
  lines.push(...relocationSection(r));
  lines.push(...remoteSection(r));
  lines.push(...storageSection(r));
  lines.push(...fallbackSection(r));
  lines.push("", "## Issue-11 targets", "", ...targets(r));
  if (r.relocation !== undefined && r.relocation.length > 0) lines.push("", "## Issue-12 targets", "", ...relocationTargets(r.relocation));
  return `${lines.join("\n")}\n`;
}

const pct = (n: number, of: number): string => `${n}/${of} (${of === 0 ? "-" : ((100 * n) / of).toFixed(0)}%)`;

function relocationSection(r: Results): string[] {
  const rows = r.relocation ?? [];
  if (rows.length === 0) return [];
  const lines = ["", "## Relocation: the second checkout under one base dir (make -j2)", ""];
  if (r.relocationHeader !== undefined) lines.push(r.relocationHeader, "");
  lines.push(
    "Two copies of the project under one parent, that parent as the base dir (zccache `ZCCACHE_BASE_DIR`, ccache `CCACHE_BASEDIR`), " +
      "fresh caches, CMake with `CMAKE_C_COMPILER_LAUNCHER`; copy 1 is built, then copy 2 is counted. " +
      "Identical: copy 2's files byte-compared with a bare build of copy 2 in the same directories. " +
      "Naming the checkout: bare objects of copy 2 that contain copy 2's absolute path (a tool must miss those to stay identical to bare).",
    "",
    "| project | layout (copy 1 vs copy 2) | build type | objects | naming the checkout | zccache hits on copy 2 | ccache hits on copy 2 | zccache objects identical to bare | ccache objects identical to bare | depfiles identical (zccache / ccache) | zccache misses: reasons | s |",
    "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
  );
  for (const x of rows) {
    const z = x.zccache;
    const c = x.ccache;
    lines.push(
      `| ${x.project} | ${x.layout} (\`${x.copies[0]}\` vs \`${x.copies[1]}\`) | ${x.buildType} | ${x.objects} | ${x.namingCheckout ?? "-"} | ${pct(z.hits, x.objects)} | ${pct(c.hits, x.objects)} | ` +
        `${x.zccache.identical}/${x.objects} | ${c.identical}/${x.objects} | ${z.depfilesIdentical}/${x.depfiles} / ${c.depfilesIdentical}/${x.depfiles} | ` +
        `${z.misses + z.other}${z.reasons === "" ? "" : `: ${z.reasons}`} | ${x.seconds.toFixed(0)} |`,
    );
  }
  return lines;
}

/**
 * Issue 12: at least 95% hits on the second checkout, every object identical to bare there. An
 * object that names its checkout cannot be both, so the hit target counts the others.
 */
function relocationTargets(rows: RelocationResult[]): string[] {
  return rows.map((x) => {
    const reachable = x.objects - (x.namingCheckout ?? 0);
    const met = reachable > 0 && x.zccache.hits >= 0.95 * reachable && x.zccache.identical === x.objects;
    const of = reachable === x.objects ? "" : ` of the ${reachable} objects not naming their checkout`;
    return (
      `- second checkout, ${x.project}, ${x.layout}, build type ${x.buildType}: zccache ${x.zccache.hits}/${x.objects} hits, ` +
      `${x.zccache.identical}/${x.objects} objects identical to bare (ccache with base_dir: ${x.ccache.hits}/${x.objects} hits, ` +
      `${x.ccache.identical}/${x.objects} identical) (target ≥ 95% hits${of}, all identical): ${met ? "met" : "NOT met"}`
    );
  });
}

/** "74/74" when every run counted the same, else each run's. */
function perRun(xs: number[], of: number[]): string {
  const all = xs.map((x, i) => `${x}/${of[i] ?? "-"}`);
  return new Set(all).size === 1 ? `${all[0]}${xs.length > 1 ? ` (each of ${xs.length} runs)` : ""}` : all.join(", ");
}

function remoteSection(r: Results): string[] {
  const x = r.remote;
  if (x === undefined) return [];
  const lines = ["", "## Remote storage: a second machine from a shared Redis (make -j2)", ""];
  if (r.remoteHeader !== undefined) lines.push(r.remoteHeader, "");
  lines.push(
    `${x.project}, build type ${x.buildType}, ${x.objects} objects. One redis-server on 127.0.0.1 for both tools ` +
      "(keys `zccache:…` and `ccache:…`). Machine one builds checkout 1 " +
      `(\`${x.copies[0]}\`) with a fresh cache and the remote (zccache \`ZCCACHE_REMOTE_STORAGE\`, ccache \`CCACHE_REMOTE_STORAGE\`; ` +
      "zccache's asynchronous writes are waited for); machine two builds checkout 2 " +
      `(\`${x.copies[1]}\`) under the same base dir with another fresh local cache every run and the same remote. ` +
      `Timed: machine two's \`make -j2\` (configure not timed), median of ${x.runs} run${x.runs === 1 ? "" : "s"}. ` +
      "Hits from each tool's own statistics; identical: objects byte-compared with the first bare build of checkout 2.",
    "",
    "| tool on machine two | median ms | runs ms | ratio to ccache | ratio to bare | remote hits / compiles | misses | remote errors | objects identical to bare | machine one ms (filling) | keys on the remote |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  const cc = x.tools.find((t) => t.tool === "ccache")?.medianMs;
  const bare = x.tools.find((t) => t.tool === "bare")?.medianMs;
  const label: Record<RemoteTool, string> = {
    bare: "bare",
    ccache: "ccache",
    zccache: "zccache (daemon starts in the build)",
    "zccache-daemon-up": "zccache (daemon started before the build)",
  };
  for (const t of x.tools) {
    const isBare = t.tool === "bare";
    lines.push(
      `| ${label[t.tool]} | ${t.medianMs.toFixed(0)} | ${t.runsMs.map((m) => m.toFixed(0)).join(", ")} | ${ratio(t.medianMs, cc)} | ${ratio(t.medianMs, bare)} | ` +
        `${isBare ? "-" : perRun(t.remoteHits, t.compiles)} | ${isBare ? "-" : t.misses.join(", ")} | ${isBare ? "-" : t.remoteErrors} | ` +
        `${perRun(t.identical, t.identical.map(() => x.objects))} | ${isBare ? "-" : t.fillMs.toFixed(0)} | ${isBare ? "-" : t.remoteKeys} |`,
    );
  }
  return lines;
}

const bytes = (n: number): string => (n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(2)} MB`);

function storageSection(r: Results): string[] {
  const x = r.storage;
  if (x === undefined) return [];
  const lines = ["", "## Storage: compression and daemon restarts", ""];
  if (r.storageHeader !== undefined) lines.push(r.storageHeader, "");
  lines.push(
    "### Warm hit cost with compression level 0 and 1",
    "",
    `zccache with \`ZCCACHE_COMPRESSION_LEVEL=0\` and \`=1\` (two cache roots, two daemons), ccache with its default ` +
      `compression (zstd level 1) and with \`CCACHE_NOCOMPRESS=1\`; each primed once, then ${x.rounds} rounds of hyperfine ` +
      `(3 warm-up + ${RUNS_PER_ROUND} runs per tool and round, the tools interleaved, the first one rotating). Median over all measured runs.`,
    "",
    "| case | tool | median ms | min–max ms | runs | ratio to zccache level 0 | ratio to ccache | hits (tool's own count) | object |",
    "|---|---|---:|---:|---:|---:|---:|---:|---|",
  );
  const label: Record<HitTool, string> = {
    "zccache-l0": "zccache, level 0",
    "zccache-l1": "zccache, level 1",
    ccache: "ccache (level 1)",
    "ccache-uncompressed": "ccache, uncompressed",
  };
  for (const h of x.hitCost) {
    const of = (t: HitTool): number | undefined => x.hitCost.find((y) => y.case === h.case && y.tool === t)?.medianMs;
    lines.push(
      `| ${h.case} | ${label[h.tool]} | ${h.medianMs.toFixed(2)} | ${h.minMs.toFixed(2)}–${h.maxMs.toFixed(2)} | ${h.runs} | ${ratio(h.medianMs, of("zccache-l0"))} | ` +
        `${ratio(h.medianMs, of("ccache"))} | ${h.hits}/${h.calls} | ${h.identical ? "identical to bare" : "DIFFERS from bare"} |`,
    );
  }
  lines.push(
    "",
    "### Store size after one cold build",
    "",
    "Each project built once from an empty cache with each tool (plain `ar`: zccache caches only compiles here, as ccache does). " +
      "zccache: `bytes` (its blobs on disk: outputs, deduplicated by content) and `uncompressed_bytes` from `zccache status --json`; " +
      "its manifests live in `index.sqlite`, counted only in the whole-directory column. ccache: compressed = the summed size of its " +
      "result and manifest files (what `ccache -x` calls compressed data), original = that times `-x`'s compression ratio. " +
      "Whole cache dir: every file in it after the build (zccache: daemon stopped, `logs/` left out). " +
      "Build times are one cold build each (not interleaved, not a comparison).",
    "",
    "| project | objects built (total size) | compiles stored (zccache / ccache) | zccache level 1 on disk | zccache level 0 on disk | zccache uncompressed | zccache ratio | ccache compressed | ccache original | ccache ratio | zccache level 1 / ccache compressed | whole cache dir (zccache level 1 / level 0 / ccache) | of zccache level 1's: index.sqlite, history.sqlite | cold build s (level 1 / level 0 / ccache) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const z of x.sizes) {
    lines.push(
      `| ${z.project} | ${z.objects} (${bytes(z.objectBytes)}) | ${z.level1.misses} / ${z.ccache.misses} | ${bytes(z.level1.bytes)} | ${bytes(z.level0.bytes)} | ${bytes(z.level1.uncompressedBytes)} | ` +
        `${ratio(z.level1.uncompressedBytes, z.level1.bytes)} | ${bytes(z.ccache.bytes)} | ${bytes(z.ccache.originalBytes)} | ${z.ccache.ratio.toFixed(2)} | ` +
        `${ratio(z.level1.bytes, z.ccache.bytes)} | ${[z.level1.dirBytes, z.level0.dirBytes, z.ccache.dirBytes].map(bytes).join(" / ")} | ${bytes(z.level1.indexBytes)}, ${bytes(z.level1.historyBytes)} | ${[z.level1.buildMs, z.level0.buildMs, z.ccache.buildMs].map((m) => (m / 1000).toFixed(1)).join(" / ")} |`,
    );
  }
  lines.push(
    "",
    "### Warm rebuild with the daemon up and right after `zccache stop`",
    "",
    "zccache at level 1, the cache filled by one cold build. Each round: a clean rebuild with the daemon up, then `zccache stop` and " +
      "the same clean rebuild, whose first compile starts the daemon (it finds the toolchain fingerprints in its index). " +
      "Fingerprints: `toolchain_fingerprints_computed` during the build (for the restarted daemon, its whole count).",
    "",
    "| project | daemon up: median ms | runs ms | after restart: median ms | runs ms | ratio restarted / up | hits / compiles per run (up; restarted) | fingerprints computed (up; restarted) | fingerprints in the cold build |",
    "|---|---:|---|---:|---|---:|---|---|---:|",
  );
  const ms = (rs: RestartRun[]): string => rs.map((q) => q.ms.toFixed(0)).join(", ");
  const counted = (rs: RestartRun[]): string => {
    const all = rs.map((q) => `${q.hits}/${q.compiles}`);
    return new Set(all).size === 1 ? `${all[0]} each` : all.join(", ");
  };
  const fp = (rs: RestartRun[]): string => {
    const all = rs.map((q) => String(q.fingerprints));
    return new Set(all).size === 1 ? `${all[0]} each` : all.join(", ");
  };
  for (const q of x.restart) {
    const up = median(q.up.map((y) => y.ms));
    const re = median(q.restarted.map((y) => y.ms));
    lines.push(
      `| ${q.project} | ${up.toFixed(0)} | ${ms(q.up)} | ${re.toFixed(0)} | ${ms(q.restarted)} | ${ratio(re, up)} | ${counted(q.up)}; ${counted(q.restarted)} | ` +
        `${fp(q.up)}; ${fp(q.restarted)} | ${q.primeFingerprints} |`,
    );
  }
  return lines;
}

function fallbackSection(r: Results): string[] {
  const f = r.fallback;
  if (f === undefined) return [];
  const lines = ["", "## preprocessor_fallback: lookup by preprocessed text after a direct-mode miss", ""];
  if (r.fallbackHeader !== undefined) lines.push(r.fallbackHeader, "");
  lines.push(`Cold build of ${f.project} (${f.objects} objects, make -j2), each from an empty cache:`, "");
  lines.push("| tool | median ms | runs ms | ratio to bare | ratio to zccache off | hits (by text) | misses | objects as bare |", "|---|---:|---|---:|---:|---:|---:|---|");
  const bare = f.cold.find((c) => c.tool === "bare")?.medianMs;
  const off = f.cold.find((c) => c.tool === "zccache-off")?.medianMs;
  for (const c of f.cold) {
    lines.push(
      `| ${c.tool} | ${c.medianMs.toFixed(0)} | ${c.runs.map((x) => x.toFixed(0)).join(", ")} | ${ratio(c.medianMs, bare)} | ${ratio(c.medianMs, off)} | ${c.hits} (${c.byText}) | ${c.misses} | ${c.identical ? "yes" : "NO"} |`,
    );
  }
  lines.push("", "Then the same build with the same cache after a define no source reads changed (`-DZC_BUILD_ID=1` → `2` in CMAKE_C_FLAGS):", "");
  lines.push("| tool | median ms | runs ms | ratio to zccache off | hits (by text) | misses |", "|---|---:|---|---:|---:|---:|");
  const rOff = f.cold.find((c) => c.tool === "zccache-off")?.defineChanged?.medianMs;
  for (const c of f.cold) {
    const d = c.defineChanged;
    if (d === undefined) continue;
    lines.push(`| ${c.tool} | ${d.medianMs.toFixed(0)} | ${d.runs.map((x) => x.toFixed(0)).join(", ")} | ${ratio(d.medianMs, rOff)} | ${d.hits} (${d.byText}) | ${d.misses} |`);
  }
  lines.push("", "Trivial C miss (cache emptied before every run):", "");
  lines.push("| tool | median ms | min–max ms | ratio to bare | ratio to zccache off |", "|---|---:|---:|---:|---:|");
  const mBare = f.trivialMiss.find((m) => m.tool === "bare")?.medianMs;
  const mOff = f.trivialMiss.find((m) => m.tool === "zccache-off")?.medianMs;
  for (const m of f.trivialMiss) {
    lines.push(`| ${m.tool} | ${m.medianMs.toFixed(1)} | ${m.minMs.toFixed(1)}–${m.maxMs.toFixed(1)} | ${ratio(m.medianMs, mBare)} | ${ratio(m.medianMs, mOff)} |`);
  }
  return lines;
}
