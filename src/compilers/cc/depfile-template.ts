// A user's depfile as a template: its prerequisites, with paths under a base dir made relative
// to the cwd, rendered again on a hit with the current targets and the current tree.
//
// gcc and clang wrap the rule by column, so the lines depend on the lengths of the target and
// of every path. We model each compiler's writer (gcc's mkdeps: wrap past column 72; clang's
// DependencyFile: past 75) and only keep a template when rendering it reproduces the file the
// compiler just wrote byte for byte. Anything else (escaped names, another layout) is stored
// verbatim and the entry stays bound to its tree and output names.
import { BASE_RELATIVE, fromCwd, relativeToCwd } from "../../platform/relative-paths.ts";

export type DepfileStyle = "gcc" | "clang";

export interface DepfileTemplate {
  readonly style: DepfileStyle;
  /** Prerequisites as written; a base-relative one starts with BASE_RELATIVE. */
  readonly deps: readonly string[];
  /** -MP: a phony rule per prerequisite but the first. */
  readonly phony: boolean;
}

/** GNU make quoting, as gcc's mkdeps and clang's quoteMakeTarget write a quoted target. */
export function quoteTarget(s: string): string {
  // Nothing to quote (every name but a rare few): copied as is, ~10x cheaper on a hit.
  if (!/[ \t$#]/.test(s)) return s;
  let out = "";
  let backslashes = 0;
  for (const ch of s) {
    if (ch === " " || ch === "\t") out += "\\".repeat(backslashes + 1);
    else if (ch === "$") out += "$";
    else if (ch === "#") out += "\\";
    out += ch;
    backslashes = ch === "\\" ? backslashes + 1 : 0;
  }
  return out;
}

/**
 * The targets the compiler puts before the colon: -MT values as given, -MQ values quoted, in
 * order; with neither, the output's name, quoted (the gcc driver passes it as -MQ, clang's
 * quotes it too).
 */
export function depfileTargets(args: readonly string[], outputSpelled: string): string[] {
  const out = targetOptions(args).map((t) => (t.opt === "-MQ" ? quoteTarget(t.value) : t.value));
  return out.length > 0 ? out : [quoteTarget(outputSpelled)];
}

/** The -MT and -MQ options with their values (attached or separate), in the order written. */
export function targetOptions(args: readonly string[]): { readonly opt: "-MT" | "-MQ"; readonly value: string }[] {
  const out: { opt: "-MT" | "-MQ"; value: string }[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    for (const opt of ["-MT", "-MQ"] as const) {
      if (!a.startsWith(opt)) continue;
      const value = a === opt ? args[++i] : a.slice(opt.length);
      if (value !== undefined) out.push({ opt, value });
    }
  }
  return out;
}

/** A prerequisite as written (escaped for make) and the length the writer measures it by. */
interface Dep {
  readonly text: string;
  readonly width: number;
}

function renderGcc(targets: readonly string[], deps: readonly Dep[], phony: boolean): string {
  const colmax = 72;
  let out = "";
  let col = 0;
  const write = (name: string): void => {
    if (col !== 0) {
      if (col + name.length > colmax) {
        out += " \\\n";
        col = 0;
      }
      col++;
      out += " ";
    }
    col += name.length;
    out += name;
  };
  for (const t of targets) write(t);
  out += ":";
  col++;
  for (const d of deps) write(d.text);
  out += "\n";
  if (phony) for (const d of deps.slice(1)) out += `${d.text}:\n`;
  return out;
}

function renderClang(targets: readonly string[], deps: readonly Dep[], phony: boolean): string {
  const maxColumns = 75;
  let out = "";
  let columns = 0;
  for (const t of targets) {
    const n = t.length;
    if (columns === 0) columns += n;
    else if (columns + n + 2 > maxColumns) {
      columns = n + 2;
      out += " \\\n  ";
    } else {
      columns += n + 1;
      out += " ";
    }
    out += t;
  }
  out += ":";
  columns += 1;
  for (const d of deps) {
    // clang measures the name before escaping it.
    const n = d.width;
    if (columns + (n + 1) + 2 > maxColumns) {
      out += " \\\n ";
      columns = 2;
    }
    out += ` ${d.text}`;
    columns += n + 1;
  }
  out += "\n";
  if (phony) for (const d of deps.slice(1)) out += `\n${d.text}:\n`;
  return out;
}

/** A path as gcc (measured escaped) or clang (measured raw) writes a prerequisite. */
function depOf(style: DepfileStyle, raw: string): Dep {
  const text = quoteTarget(raw);
  return { text, width: style === "gcc" ? text.length : raw.length };
}

function render(style: DepfileStyle, targets: readonly string[], rawDeps: readonly string[], phony: boolean): string {
  const deps = rawDeps.map((d) => depOf(style, d));
  return style === "gcc" ? renderGcc(targets, deps, phony) : renderClang(targets, deps, phony);
}

/**
 * A template for `text` (the depfile the compiler wrote for `targets` in `cwd`), or null
 * when our model of the writer does not reproduce it exactly.
 */
export function depfileTemplate(
  text: string,
  style: DepfileStyle,
  targets: readonly string[],
  cwd: string,
  baseDirs: readonly string[],
): DepfileTemplate | null {
  const head = render(style, targets, [], false).slice(0, -1); // "targets:" with its wrapping
  if (!text.startsWith(head)) return null;
  let ruleEnd = text.indexOf("\n", head.length);
  while (ruleEnd > 0 && text[ruleEnd - 1] === "\\") ruleEnd = text.indexOf("\n", ruleEnd + 1);
  if (ruleEnd < 0) return null;
  const body = text.slice(head.length, ruleEnd).replaceAll(" \\\n", " ");
  // Escaped names (spaces, '#', '$') would need make's unquoting to measure: not templated.
  if (body.includes("\\") || body.includes("$")) return null;
  const deps = body.split(" ").filter((t) => t !== "");
  const phony = ruleEnd + 1 < text.length;
  if (render(style, targets, deps, phony) !== text) return null;
  return {
    style,
    deps: deps.map((d) => {
      const rel = relativeToCwd(d, cwd, baseDirs);
      return rel === null ? d : BASE_RELATIVE + rel;
    }),
    phony,
  };
}

/** The depfile the compiler would write for `targets` in `cwd`. */
export function renderDepfile(t: DepfileTemplate, targets: readonly string[], cwd: string): string {
  const deps = t.deps.map((d) => (d.startsWith(BASE_RELATIVE) ? fromCwd(d.slice(BASE_RELATIVE.length), cwd) : d));
  return render(t.style, targets, deps, t.phony);
}

export function isDepfileTemplate(v: unknown): v is DepfileTemplate {
  if (typeof v !== "object" || v === null) return false;
  const t = v as Partial<DepfileTemplate>;
  return (
    (t.style === "gcc" || t.style === "clang") &&
    typeof t.phony === "boolean" &&
    Array.isArray(t.deps) &&
    t.deps.every((d) => typeof d === "string")
  );
}
