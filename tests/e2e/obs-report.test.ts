// `zccache report --html`: a real session of 2,010 invocations through the real CLI (misses
// after a header edit, new sources, uncacheable runs, then rounds of hits), written as HTML
// and loaded in a real headless Chromium over the DevTools protocol; the assertions read the
// rendered page (one timeline mark per invocation, the top miss cause, no console errors).
// Also a 10,000-invocation journal for size and render time, --minutes, the default
// (latest session) and bad arguments.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, findChromium, startBrowser } from "../fixtures/browser.ts";
import { CacheEnv, missing, REPO_ROOT, type RunResult, sleepMs } from "../helpers.ts";

const ARTIFACTS = path.join(REPO_ROOT, "tests", "artifacts");
const CHROMIUM = findChromium();
if (CHROMIUM === null) missing("chromium is not installed", "the HTML report suite");

let browser: Browser | null = null;

beforeAll(async () => {
  if (CHROMIUM !== null) browser = await startBrowser(CHROMIUM, { width: 1280, height: 1000 });
}, 60_000);

afterAll(async () => {
  if (browser !== null) {
    const pid = browser.pid;
    await browser.stop();
    expect(fs.existsSync(`/proc/${pid}`) && !/\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"))).toBe(false);
  }
  CacheEnv.stopAll();
}, 60_000);

function expectOk(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\nstdout: ${r.out}\nstderr: ${r.err}`);
  return r;
}

/** Runs `jobs` two at a time (the machine has two cores). */
async function pool(jobs: readonly (() => Promise<void>)[], width = 2): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++] as () => Promise<void>;
      await job();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

interface PageFacts {
  marks: number;
  distinct: number;
  topCause: string | null;
  topCauseVisible: boolean;
  topCount: string | null;
  hitRate: string | null;
  scope: string | null;
  renderMs: number;
  loadMs: number;
}

const FACTS = `(() => {
  const marks = [...document.querySelectorAll("#timeline rect.mark")];
  const top = document.querySelector("#miss-causes tbody tr td.cause");
  const nav = performance.getEntriesByType("navigation")[0];
  return {
    marks: marks.length,
    distinct: new Set(marks.map((m) => m.getAttribute("data-i"))).size,
    topCause: top ? top.textContent : null,
    topCauseVisible: top ? top.getBoundingClientRect().height > 0 : false,
    topCount: top ? top.parentElement.querySelector("td").textContent : null,
    hitRate: document.querySelector("#hit-rate b")?.textContent ?? null,
    scope: document.querySelector("#scope")?.textContent ?? null,
    renderMs: Number(document.documentElement.getAttribute("data-render-ms")),
    loadMs: nav ? nav.loadEventEnd : -1,
  };
})()`;

async function load(file: string): Promise<PageFacts> {
  const b = browser as Browser;
  await b.navigate(pathToFileURL(file).href);
  return b.evaluate<PageFacts>(FACTS);
}

/** Hovers the centre of the first mark matching `selector`; the tooltip's text (null: none shown). */
async function hover(selector: string): Promise<string | null> {
  const b = browser as Browser;
  const at = await b.evaluate<{ x: number; y: number } | null>(`(() => {
    const m = document.querySelector(${JSON.stringify(selector)});
    if (!m) return null;
    m.scrollIntoView({ block: "center", inline: "center" });
    const r = m.getBoundingClientRect();
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
  })()`);
  if (at === null) return null;
  await b.mouseMove(at.x, at.y);
  return b.evaluate<string | null>(`(() => { const t = document.getElementById("tip"); return t.hidden ? null : t.textContent; })()`);
}

const NAMES = Array.from({ length: 100 }, (_, i) => `${["lib/core", "lib/net", "app", "tools"][i % 4]}/f${i}`);
const NEW_NAMES = Array.from({ length: 5 }, (_, i) => `app/new${i}`);
/** Sources that include inc/config.h: 70 of the 100. */
const withConfig = (i: number): boolean => i % 10 < 7;

describe.skipIf(CHROMIUM === null)("report --html in a real browser", () => {
  const c = new CacheEnv({ CPATH: undefined, C_INCLUDE_PATH: undefined, CPLUS_INCLUDE_PATH: undefined });
  const html = path.join(c.work, "report.html");
  let id = "";
  let invocations = 0;

  const compile = (name: string, env: Record<string, string>) => async (): Promise<void> => {
    expectOk(await c.zcAsync(["gcc", "-O1", "-Iinc", "-c", `${name}.c`, "-o", `${name}.o`], { env }), `gcc ${name}.c`);
    invocations++;
  };

  test("a 2,010-invocation session renders one mark per invocation and its top miss cause", async () => {
    c.write("inc/config.h", "#define CONFIG_LEVEL 1\n");
    NAMES.forEach((name, i) => {
      const inc = withConfig(i) ? '#include "config.h"\n' : "";
      c.write(`${name}.c`, `${inc}int fn_${i}(int x) { return x * ${i + 1}; }\n`);
    });
    await sleepMs(2_500); // past the racy window, so the warm-up's entries are stored and trusted
    const warm = JSON.parse(expectOk(c.zc(["session-start"]), "session-start").out).session_id as string;
    await pool(NAMES.map((n) => compile(n, { ZCCACHE_SESSION_ID: warm })));

    // The build the report is about: one header edited, five new sources, then rebuilds.
    c.write("inc/config.h", "#define CONFIG_LEVEL 2\n");
    NEW_NAMES.forEach((name, i) => c.write(`${name}.c`, `int new_${i}(void) { return ${i}; }\n`));
    await sleepMs(2_500);
    id = JSON.parse(expectOk(c.zc(["session-start"]), "session-start").out).session_id as string;
    const tagged = { ZCCACHE_SESSION_ID: id };
    invocations = 0;
    const all = [...NAMES, ...NEW_NAMES];
    await pool(all.map((n) => compile(n, tagged)));
    for (let i = 0; i < 10; i++) {
      expectOk(c.zc(["gcc", "-Iinc", "-E", `${NAMES[i]}.c`, "-o", `pre${i}.i`], { env: tagged }), "gcc -E");
      invocations++;
    }
    for (let i = 0; i < 5; i++) {
      expectOk(c.zc(["gcc", "-x", "c", "-c", "-", "-o", `stdin${i}.o`], { env: tagged, stdin: `int s${i}(void) { return ${i}; }\n` }), "stdin");
      invocations++;
    }
    const rounds: (() => Promise<void>)[] = [];
    for (let r = 0; r < 18; r++) rounds.push(...all.map((n) => compile(n, tagged)));
    await pool(rounds);
    expect(invocations).toBe(2_010);

    const rollup = JSON.parse(expectOk(c.zc(["explain", "--session", id, "--json"]), "explain --session").out) as {
      invocations: number;
      hits: number;
      misses: number;
      uncacheable: number;
      miss_causes: { count: number; cause: string }[];
    };
    expect([rollup.invocations, rollup.hits, rollup.misses, rollup.uncacheable]).toEqual([2_010, 1_920, 75, 15]);
    expect(rollup.miss_causes[0]).toMatchObject({ count: 70, cause: "header inc/config.h changed" });

    const r = expectOk(c.zc(["report", id, "--html", "report.html", "--open"]), "report");
    expect(r.out).toBe(`${pathToFileURL(html).href}\n`);
    expect(r.err).toBe("");

    const page = await load(html);
    expect(page.marks).toBe(2_010);
    expect(page.distinct).toBe(2_010);
    expect(page.topCause).toBe("header inc/config.h changed");
    expect(page.topCauseVisible).toBe(true);
    expect(page.topCount).toBe("70");
    expect(page.hitRate).toBe(`${((1_920 / 1_995) * 100).toFixed(1)}%`);
    expect(page.scope).toStartWith(`session ${id}`);

    // The other tables, as rendered.
    const tables = await (browser as Browser).evaluate<Record<string, string[]>>(`(() => {
      const col = (sel) => [...document.querySelectorAll(sel)].map((e) => e.textContent);
      return {
        uncacheable: col("#uncacheable-reasons tbody td.reason"),
        languages: col("#languages tbody td.key"),
        directories: col("#directories tbody td.key"),
        slowest: col("#slowest-misses tbody tr"),
      };
    })()`);
    expect(tables.uncacheable).toEqual(["preprocess-only", "stdin-input"]);
    expect(tables.languages).toEqual(["c", "other"]); // "other": the -E and stdin runs
    expect([...(tables.directories ?? [])].sort()).toEqual([".", "app", "lib/core", "lib/net", "tools"]);
    expect(tables.slowest?.length).toBe(15);

    // Hover: the tooltip names the command, its outcome and (for a miss) its cause.
    const tip = await hover("#timeline rect.mark.o2");
    expect(tip).not.toBeNull();
    expect(tip).toContain("$ gcc ");
    expect(tip).toContain("cwd: .");

    const size = fs.statSync(html).size;
    console.log(`report of 2,010 invocations: ${(size / 1024).toFixed(0)} KiB, script ${page.renderMs} ms, load event at ${page.loadMs.toFixed(0)} ms`);
    await (browser as Browser).evaluate("window.scrollTo(0, 0)");
    await (browser as Browser).mouseMove(0, 0);
    await (browser as Browser).screenshot(path.join(ARTIFACTS, "report.png"));
    expect(fs.statSync(path.join(ARTIFACTS, "report.png")).size).toBeGreaterThan(10_000);
    expect((browser as Browser).problems()).toEqual([]);
  }, 180_000);

  test("without an ID the latest session is reported; --minutes takes every line of the window", async () => {
    expectOk(c.zc(["report", "--html", "latest.html"]), "report (latest)");
    const latest = await load(path.join(c.work, "latest.html"));
    expect(latest.scope).toStartWith(`session ${id}`);
    expect(latest.marks).toBe(2_010);

    expectOk(c.zc(["report", "--minutes", "60", "--html", "window.html"]), "report --minutes");
    const window = await load(path.join(c.work, "window.html"));
    const journal = path.join(c.root, "logs", "compile_journal.jsonl");
    const lines = fs.readFileSync(journal, "utf8").split("\n").filter((l) => l !== "").length;
    expect(lines).toBe(2_110);
    expect(window.marks).toBe(lines);
    expect(window.scope).toStartWith("the last 60 minutes");
    expect((browser as Browser).problems()).toEqual([]);
  }, 60_000);

  test("bad arguments and unknown sessions: one line, non-zero exit, no file", () => {
    const cases: [string[], number, string][] = [
      [["report"], 2, "--html FILE is required"],
      [["report", id, "--html"], 2, "--html needs a file name"],
      [["report", "a", "b", "--html", "x.html"], 2, "one session ID only"],
      [["report", "--minutes", "0", "--html", "x.html"], 2, "positive number of minutes"],
      [["report", "--minutes", "soon", "--html", "x.html"], 2, "positive number of minutes"],
      [["report", id, "--minutes", "5", "--html", "x.html"], 2, "not both"],
      [["report", "--bogus", "--html", "x.html"], 2, "unknown option '--bogus'"],
      [["report", "s-no-such-session", "--html", "x.html"], 1, "no session s-no-such-session"],
      [["report", id, "--html", "no/such/dir/x.html"], 1, "cannot write"],
    ];
    for (const [args, code, text] of cases) {
      const r = c.zc(args);
      expect(r.code).toBe(code);
      expect(r.out).toBe("");
      expect(r.err.split("\n").filter((l) => l !== "").length).toBe(1);
      expect(r.err).toContain(text);
    }
    expect(fs.existsSync(path.join(c.work, "x.html"))).toBe(false);
    expect(fs.readdirSync(c.work).filter((f) => f.includes(".tmp."))).toEqual([]);
  });
});

describe.skipIf(CHROMIUM === null)("report --html for 10,000 invocations", () => {
  const c = new CacheEnv();
  const SESSION = "s-synthetic-10k";
  const N = 10_000;

  test("a 10,000-line journal renders every mark, escapes commands, and stays small", async () => {
    expectOk(c.zc(["start"]), "start");
    // A -j8 build of 10,000 compiles over ~10 minutes: hits, misses, uncacheable and errors,
    // in C, C++ and links, under 40 directories; some arguments need escaping in HTML.
    const t0 = Date.parse("2026-11-30T10:00:00Z");
    const lines: string[] = [];
    const outcomes = ["hit", "hit", "hit", "hit", "hit", "hit", "miss", "miss", "uncacheable", "hit"];
    for (let i = 0; i < N; i++) {
      const outcome = i === N - 1 ? "error" : (outcomes[i % outcomes.length] as string);
      const dir = `src/mod${i % 40}`;
      const lang = i % 50 === 0 ? "link" : i % 3 === 0 ? "c++" : "c";
      const latency = outcome === "miss" ? 200 + (i % 700) : outcome === "hit" ? 2 + (i % 5) : 30;
      const end = t0 + Math.floor(i / 8) * 60 + latency;
      const args = ["-O2", "-Wall", "-Iinclude", `-DMSG="<b>&'${i}'"`, "-c", `${dir}/f${i}.c`, "-o", `/work/build/${dir}/f${i}.o`];
      lines.push(
        JSON.stringify({
          ts: new Date(end).toISOString(),
          session: SESSION,
          outcome,
          reason: outcome === "miss" ? "inputs-changed" : outcome === "uncacheable" ? "preprocess-only" : outcome === "error" ? "store-write-failed" : null,
          language: lang,
          compiler: lang === "c++" ? "g++" : "gcc",
          args,
          cwd: "/work",
          output: outcome === "uncacheable" ? null : `/work/build/${dir}/f${i}.o`,
          exit_code: 0,
          latency_ms: latency,
          saved_ms: outcome === "hit" ? 300 : 0,
          hints: [],
          env: {},
        }),
      );
    }
    // One command that would inject markup if it were not escaped.
    lines[1] = lines[1]?.replace('"-O2"', '"-DX=</script><img src=x onerror=alert(1)>"') ?? "";
    fs.mkdirSync(path.join(c.root, "logs"), { recursive: true });
    fs.appendFileSync(path.join(c.root, "logs", "compile_journal.jsonl"), `${lines.join("\n")}\n`);

    expectOk(c.zc(["report", SESSION, "--html", "big.html"]), "report");
    const file = path.join(c.work, "big.html");
    const page = await load(file);
    expect(page.marks).toBe(N);
    expect(page.distinct).toBe(N);
    expect(page.topCause).toBe("cause not recorded");
    const injected = await (browser as Browser).evaluate<number>(`document.querySelectorAll("img").length`);
    expect(injected).toBe(0);
    const tip = await hover('#timeline rect.mark[data-i="1"]');
    expect(tip).toContain(`'-DX=</script><img src=x onerror=alert(1)>'`);
    expect(tip).toContain(`'-DMSG="<b>&'\\''1'\\''"'`);
    const size = fs.statSync(file).size;
    console.log(`report of 10,000 invocations: ${(size / 1024).toFixed(0)} KiB, script ${page.renderMs} ms, load event at ${page.loadMs.toFixed(0)} ms`);
    await (browser as Browser).evaluate("window.scrollTo(0, 0)");
    await (browser as Browser).screenshot(path.join(ARTIFACTS, "report-10k.png"));
    expect((browser as Browser).problems()).toEqual([]);
  }, 120_000);
});
