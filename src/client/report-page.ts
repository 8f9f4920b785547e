// The HTML report's inline style sheet and script. The script draws the timeline from the
// JSON data block (one <rect class="mark"> per invocation, lanes and positions computed in
// report-model.ts) and shows an invocation on hover; it never builds markup from strings of
// the build (commands, paths go in through textContent), and loads nothing.

/** Outcome codes in the data block, in this order; each has a CSS class `o<code>`. */
export const OUTCOME_CODES = ["hit", "remote-hit", "miss", "uncacheable", "error", "other"] as const;

export const OUTCOME_COLOURS: Readonly<Record<(typeof OUTCOME_CODES)[number], string>> = {
  hit: "#2f9e44",
  "remote-hit": "#1c7ed6",
  miss: "#e03131",
  uncacheable: "#868e96",
  error: "#9c36b5",
  other: "#f08c00",
};

/** Numbers per invocation in the data block's `inv` array. */
export const INV_STRIDE = 11;

export const REPORT_CSS = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg2: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0 auto; padding: 20px 28px 40px; max-width: 1400px; }
h1 { font-size: 22px; margin: 0 0 2px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.scope { color: var(--muted); margin: 0 0 14px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { flex: 1 1 0; border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; min-width: 120px; background: var(--bg2); }
.card b { display: block; font-size: 22px; white-space: nowrap; }
.card span { color: var(--muted); }
.card.main { flex-grow: 1.4; }
.card.main b { font-size: 28px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg2); font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.cmd { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; max-width: 640px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.bar { display: inline-block; height: 10px; background: ${OUTCOME_COLOURS.miss}; border-radius: 2px; vertical-align: middle; }
.note { color: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: 14px; align-items: center; margin: 4px 0 8px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.zoom button { font: inherit; padding: 1px 8px; margin-left: 2px; border: 1px solid var(--line); background: #fff; border-radius: 4px; cursor: pointer; }
.zoom button.on { background: var(--fg); color: #fff; }
#timeline-box { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
#timeline { display: block; }
#timeline .tick { stroke: #e6e9ec; }
#timeline text { font-size: 11px; fill: var(--muted); }
${OUTCOME_CODES.map((o, i) => `.o${i} { fill: ${OUTCOME_COLOURS[o]}; background: ${OUTCOME_COLOURS[o]}; }`).join("\n")}
#tip { position: fixed; z-index: 10; max-width: 720px; background: #1f2328; color: #fff; padding: 8px 10px; border-radius: 6px; font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; word-break: break-all; pointer-events: none; }
#selected { background: var(--bg2); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; white-space: pre-wrap; word-break: break-all; font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
footer { margin-top: 30px; color: var(--muted); font-size: 12px; }
`;

// Plain ES2017 in a string: no backticks or template holes inside.
export const REPORT_SCRIPT = `
(function () {
  "use strict";
  var began = performance.now();
  var D = JSON.parse(document.getElementById("zccache-data").textContent);
  var S = D.strs, I = D.inv, W = ${INV_STRIDE}, n = I.length / W;
  var OUTCOMES = ${JSON.stringify(OUTCOME_CODES)};
  var svg = document.getElementById("timeline");
  var box = document.getElementById("timeline-box");
  var tip = document.getElementById("tip");
  var selected = document.getElementById("selected");
  var AXIS = 20;
  var laneH = Math.max(3, Math.min(24, Math.floor(480 / D.lanes)));
  var gap = laneH >= 8 ? 2 : 0;
  var span = Math.max(D.span, 1);
  var zoom = 1, scale = 1;
  var byLane = [];
  for (var l = 0; l < D.lanes; l++) byLane.push([]);
  for (var i = 0; i < n; i++) byLane[I[i * W + 3]].push(i);
  byLane.forEach(function (list) { list.sort(function (a, b) { return I[a * W] - I[b * W]; }); });

  function dur(ms) {
    if (ms < 1000) return (ms < 10 ? ms.toFixed(1) : Math.round(ms)) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
    var secs = Math.round(ms / 1000), h = Math.floor(secs / 3600), m = Math.floor((secs % 3600) / 60);
    return h > 0 ? h + " h " + m + " min" : m + " min " + (secs % 60) + " s";
  }
  function step(target) {
    var p = Math.pow(10, Math.floor(Math.log10(target)));
    var m = [1, 2, 5, 10].find(function (k) { return k * p >= target; });
    return m * p;
  }
  function render() {
    var width = Math.max(200, box.clientWidth * zoom);
    scale = width / span;
    var h = D.lanes * laneH + AXIS;
    var out = [];
    var s = step(span / Math.max(2, width / 110));
    for (var t = 0; t <= span; t += s) {
      var x = (t * scale).toFixed(1);
      out.push('<line class="tick" x1="' + x + '" x2="' + x + '" y1="0" y2="' + (h - AXIS) + '"></line>');
      out.push('<text x="' + x + '" y="' + (h - 6) + '" dx="2">' + (t === 0 ? "0" : "+" + dur(t)) + "</text>");
    }
    for (var j = 0; j < n; j++) {
      var o = j * W;
      out.push('<rect class="mark o' + I[o + 2] + '" data-i="' + j + '" x="' + (I[o] * scale).toFixed(1) + '" y="' + I[o + 3] * laneH +
        '" width="' + Math.max(1, I[o + 1] * scale).toFixed(1) + '" height="' + (laneH - gap) + '"></rect>');
    }
    svg.setAttribute("width", String(width));
    svg.setAttribute("height", String(h));
    svg.innerHTML = out.join("");
  }
  function str(k) { return k < 0 ? null : S[k]; }
  function describe(j) {
    var o = j * W;
    var outcome = OUTCOMES[I[o + 2]];
    var reason = str(I[o + 5]);
    var lines = [outcome + (reason === null ? "" : " (" + reason + ")") + " \\u00b7 " + dur(I[o + 1]) + " \\u00b7 started +" + dur(I[o])];
    var cause = str(I[o + 6]);
    if (cause !== null) lines.push("cause: " + cause);
    if (I[o + 10] > 0) lines.push("saved: " + dur(I[o + 10]));
    var output = str(I[o + 7]);
    if (output !== null) lines.push("output: " + output);
    if (I[o + 9] !== -1) lines.push("exit code: " + I[o + 9]);
    lines.push("cwd: " + S[I[o + 8]]);
    lines.push("$ " + S[I[o + 4]]);
    return lines.join("\\n");
  }
  // The invocation under the pointer: in its lane, the one whose span holds the time, else
  // the nearest within 4 px (marks of a 10,000-compile build are often 1 px wide).
  function pick(ev) {
    var r = svg.getBoundingClientRect();
    var lane = Math.floor((ev.clientY - r.top) / laneH);
    if (lane < 0 || lane >= D.lanes) return -1;
    var t = (ev.clientX - r.left) / scale, list = byLane[lane];
    var lo = 0, hi = list.length - 1, at = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (I[list[mid] * W] <= t) { at = mid; lo = mid + 1; } else hi = mid - 1;
    }
    var best = -1, bestPx = 4;
    [at, at + 1].forEach(function (k) {
      if (k < 0 || k >= list.length) return;
      var j = list[k], a = I[j * W], b = a + I[j * W + 1];
      var px = t < a ? (a - t) * scale : t > b ? (t - b) * scale - 1 : 0;
      if (px <= bestPx) { best = j; bestPx = px; }
    });
    return best;
  }
  svg.addEventListener("mousemove", function (ev) {
    var j = pick(ev);
    if (j < 0) { tip.hidden = true; return; }
    tip.textContent = describe(j);
    tip.hidden = false;
    var x = Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
    var y = ev.clientY + 16 + tip.offsetHeight > window.innerHeight ? ev.clientY - tip.offsetHeight - 10 : ev.clientY + 16;
    tip.style.left = Math.max(4, x) + "px";
    tip.style.top = Math.max(4, y) + "px";
  });
  svg.addEventListener("mouseleave", function () { tip.hidden = true; });
  svg.addEventListener("click", function (ev) {
    var j = pick(ev);
    if (j >= 0) { selected.textContent = describe(j); selected.hidden = false; }
  });
  document.querySelectorAll(".zoom button").forEach(function (b) {
    b.addEventListener("click", function () {
      var centre = (box.scrollLeft + box.clientWidth / 2) / (box.clientWidth * zoom);
      zoom = Number(b.getAttribute("data-zoom"));
      document.querySelectorAll(".zoom button").forEach(function (x) { x.classList.toggle("on", x === b); });
      render();
      box.scrollLeft = centre * box.clientWidth * zoom - box.clientWidth / 2;
    });
  });
  var pending = 0;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(render, 150);
  });
  render();
  document.documentElement.setAttribute("data-render-ms", (performance.now() - began).toFixed(1));
})();
`;
