import { describe, expect, test } from "bun:test";
import type { SessionRollup } from "../protocol/session-rollup.ts";
import type { ReportInvocation, SessionReportData } from "../protocol/session-report.ts";
import { escapeHtml, formatMs, renderReportHtml, scriptJson, shellJoin } from "./report-html.ts";
import { assignLanes, buildModel, relativeTo } from "./report-model.ts";
import { parseReportArgs } from "./report.ts";

const OPTS = { version: "9.9.9", generatedAtMs: Date.parse("2026-11-30T12:00:00Z") };

function inv(over: Partial<ReportInvocation>): ReportInvocation {
  return {
    start_ms: 1_000,
    duration_ms: 10,
    outcome: "hit",
    reason: null,
    language: "c",
    command: ["gcc", "-c", "a.c", "-o", "a.o"],
    cwd: "/w",
    output: "/w/a.o",
    exit_code: 0,
    saved_ms: 0,
    cause: null,
    ...over,
  };
}

function rollup(over: Partial<SessionRollup> = {}): SessionRollup {
  return {
    session_id: "s-1",
    invocations: 0,
    hits: 0,
    misses: 0,
    uncacheable: 0,
    errors: 0,
    miss_causes: [],
    uncacheable_reasons: [],
    error_reasons: [],
    ...over,
  };
}

function report(invocations: ReportInvocation[], r: SessionRollup = rollup()): SessionReportData {
  return { scope: { kind: "session", id: "s-1" }, rollup: r, invocations, omitted: 0, cwd: "/w" };
}

/** The JSON block the page script reads. */
function dataBlock(html: string): { strs: string[]; inv: number[]; lanes: number; span: number } {
  const m = /<script type="application\/json" id="zccache-data">([^<]*)<\/script>/.exec(html);
  if (m === null) throw new Error("no data block");
  return JSON.parse(m[1] as string) as { strs: string[]; inv: number[]; lanes: number; span: number };
}

describe("renderReportHtml", () => {
  test("an empty session is a complete page with nothing to draw", () => {
    const html = renderReportHtml(report([]), OPTS);
    expect(html).toStartWith("<!DOCTYPE html>");
    expect(html).toContain("session s-1 · no invocations");
    expect(html).toContain('<div class="card main" id="hit-rate"><b>–</b>');
    expect(html).toContain("No misses.");
    expect(html).toContain("None: every invocation was cacheable.");
    expect(dataBlock(html)).toEqual({ span: 0, lanes: 1, strs: [], inv: [] });
    // Nothing is fetched: no URL but the data: favicon, and a policy that forbids the rest.
    expect(html).not.toMatch(/(src|href)="(?!data:)/);
    expect(html).toContain("default-src 'none'");
  });

  test("commands, causes and paths with <, &, and quotes are escaped in markup and in the data block", () => {
    const evil = `-DX="<script>alert('&')</script>"`;
    const causes = [{ count: 1, cause: `header <a&b>.h changed`, parts: [], outputs: ["/w/<o>.o"] }];
    const data = report(
      [inv({ outcome: "miss", reason: "inputs-changed", command: ["gcc", evil, "-c", "x.c"], output: "/w/<o>.o", cause: 0, duration_ms: 500 })],
      rollup({ invocations: 1, misses: 1, miss_causes: causes, uncacheable_reasons: [{ reason: "x<y", count: 2, advice: `say "hi" & 'bye'` }] }),
    );
    const html = renderReportHtml(data, OPTS);
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("<a&b>");
    expect(html).not.toContain("/<o>.o");
    expect(html).toContain("header &#60;a&#38;b&#62;.h changed");
    expect(html).toContain("&#60;o&#62;.o");
    expect(html).toContain("say &#34;hi&#34; &#38; &#39;bye&#39;");
    expect(html).toContain("x&#60;y");
    // The slowest-miss row's command, in a title attribute and as text.
    const quoted = shellJoin(["gcc", evil, "-c", "x.c"]);
    expect(html).toContain(`title="${escapeHtml(quoted)}"`);
    // Exactly two script elements: the data block and the page script.
    expect(html.match(/<script/g)?.length).toBe(2);
    expect(html.match(/<\/script>/g)?.length).toBe(2);
    const block = dataBlock(html);
    expect(block.strs).toContain(quoted);
    expect(block.strs).toContain("header <a&b>.h changed");
    expect(block.strs).toContain("<o>.o");
  });

  test("the data block holds one row of numbers per invocation, times from the first start", () => {
    const html = renderReportHtml(
      report(
        [
          inv({ start_ms: 5_000, duration_ms: 100, outcome: "miss", cause: null, reason: "new-source" }),
          inv({ start_ms: 5_050, duration_ms: 3, outcome: "hit", saved_ms: 90 }),
          inv({ start_ms: 5_200, duration_ms: 1, outcome: "uncacheable", reason: "preprocess-only", output: null, exit_code: null }),
        ],
        rollup({ invocations: 3, hits: 1, misses: 1, uncacheable: 1 }),
      ),
      OPTS,
    );
    const d = dataBlock(html);
    expect(d.inv.length).toBe(3 * 11);
    expect(d.lanes).toBe(2);
    expect(d.span).toBe(201);
    const rows = [0, 1, 2].map((i) => d.inv.slice(i * 11, i * 11 + 11));
    expect(rows.map((r) => r[0])).toEqual([0, 50, 200]);
    expect(rows.map((r) => r[2])).toEqual([2, 0, 3]);
    expect(rows.map((r) => r[3])).toEqual([0, 1, 0]);
    expect(rows[2]?.[7]).toBe(-1);
    expect(rows[2]?.[9]).toBe(-1);
    expect(rows[1]?.[10]).toBe(90);
    expect(d.strs[rows[0]?.[5] ?? -1]).toBe("new-source");
    expect(html).toContain('<div class="card main" id="hit-rate"><b>50.0%</b>');
  });
});

describe("helpers", () => {
  test("scriptJson cannot close its script element", () => {
    const s = scriptJson({ a: "</script><!-- \u2028" });
    expect(s).not.toContain("<");
    expect(JSON.parse(s)).toEqual({ a: "</script><!-- \u2028" });
  });

  test("shellJoin quotes what a shell would split or expand", () => {
    expect(shellJoin(["gcc", "-c", "a b.c", "-DX=it's", "-o", "out/a.o"])).toBe(`gcc -c 'a b.c' '-DX=it'\\''s' -o out/a.o`);
  });

  test("formatMs", () => {
    expect([formatMs(2.345), formatMs(250), formatMs(12_340), formatMs(125_000), formatMs(7_500_000), formatMs(2_099_700)]).toEqual([
      "2.3 ms",
      "250 ms",
      "12.3 s",
      "2 min 5 s",
      "2 h 5 min",
      "35 min 0 s",
    ]);
  });

  test("relativeTo shows paths below the cwd relative, others as they are", () => {
    expect([relativeTo("/w/a/b.o", "/w"), relativeTo("/w", "/w"), relativeTo("/x/b.o", "/w"), relativeTo("/w2/b.o", "/w")]).toEqual([
      "a/b.o",
      ".",
      "/x/b.o",
      "/w2/b.o",
    ]);
  });

  test("lanes: an invocation takes the lowest lane free at its start", () => {
    const { lanes, laneCount } = assignLanes([
      inv({ start_ms: 0, duration_ms: 10 }),
      inv({ start_ms: 5, duration_ms: 10 }),
      inv({ start_ms: 10, duration_ms: 10 }),
      inv({ start_ms: 11, duration_ms: 1 }),
      inv({ start_ms: 30, duration_ms: 1 }),
    ]);
    expect(lanes).toEqual([0, 1, 0, 2, 0]);
    expect(laneCount).toBe(3);
  });

  test("breakdowns by language and by output directory, most time first", () => {
    const m = buildModel(
      report([
        inv({ language: "c", output: "/w/lib/a.o", duration_ms: 5, outcome: "hit", saved_ms: 40 }),
        inv({ language: "c++", output: "/w/app/b.o", duration_ms: 300, outcome: "miss" }),
        inv({ language: "c", output: null, cwd: "/w/lib", duration_ms: 1, outcome: "uncacheable" }),
      ]),
    );
    expect(m.languages.map((b) => [b.key, b.invocations, b.hits, b.misses, b.uncacheable])).toEqual([
      ["c++", 1, 0, 1, 0],
      ["c", 2, 1, 0, 1],
    ]);
    expect(m.directories.map((b) => [b.key, b.invocations])).toEqual([
      ["app", 1],
      ["lib", 2],
    ]);
    expect(m.totals.savedMs).toBe(40);
    expect(m.slowestMisses).toEqual([1]);
  });
});

describe("parseReportArgs", () => {
  test("scopes and the file", () => {
    expect(parseReportArgs(["s-1", "--html", "r.html"], "/w")).toEqual({
      ok: true,
      value: { scope: { kind: "session", id: "s-1" }, htmlFile: "/w/r.html", open: false },
    });
    expect(parseReportArgs(["--minutes=30", "--html=/tmp/r.html", "--open"], "/w")).toEqual({
      ok: true,
      value: { scope: { kind: "minutes", minutes: 30 }, htmlFile: "/tmp/r.html", open: true },
    });
    expect(parseReportArgs(["--html", "r.html"], "/w")).toEqual({ ok: true, value: { scope: { kind: "latest" }, htmlFile: "/w/r.html", open: false } });
  });

  test("bad arguments name the problem", () => {
    const error = (args: string[]): string => {
      const r = parseReportArgs(args, "/w");
      return r.ok ? "" : r.error;
    };
    expect(error([])).toBe("report: --html FILE is required");
    expect(error(["--html"])).toBe("report: --html needs a file name");
    expect(error(["--html", "a", "--html", "b"])).toBe("report: --html given twice");
    expect(error(["--minutes", "-1", "--html", "a"])).toBe("report: --minutes needs a positive number of minutes, not '-1'");
    expect(error(["--minutes", "1e3", "--html", "a"])).toBe("report: --minutes needs a positive number of minutes, not '1e3'");
    expect(error(["a", "b", "--html", "f"])).toBe("report: one session ID only, not 'a' and 'b'");
    expect(error(["a", "--minutes", "5", "--html", "f"])).toBe("report: give a session ID or --minutes N, not both");
    expect(error(["--json", "--html", "f"])).toBe("report: unknown option '--json'");
  });
});
