// rustc's dep-info (`--emit=dep-info`): the source files a crate read and the environment
// variables it looked at (`# env-dep:NAME=VALUE`), and the template we store it as, with
// output paths and the working directory replaced by placeholders so a hit can write it
// for another target dir or tree.

import { findRuleColon } from "../cc/depfile.ts";

export interface RustDepInfo {
  /** Rule targets as written (the outputs). */
  readonly targets: readonly string[];
  /** Every prerequisite, unescaped, as written (relative to the cwd or absolute). */
  readonly deps: readonly string[];
  /** Variable names the crate read through env!/option_env! (and proc-macro tracking). */
  readonly envNames: readonly string[];
}

/** rustc escapes spaces in file names (and nothing else) when it writes dep-info. */
export function escapeDepPath(p: string): string {
  return p.replace(/ /g, "\\ ");
}

function unescape(word: string): string {
  return word.replace(/\\ /g, " ");
}

/** Splits a rule side into words at unescaped spaces, keeping each word's escaped form. */
function words(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === "\\" && i + 1 < s.length) {
      cur += c + (s[i + 1] as string);
      i++;
    } else if (c === " " || c === "\t") {
      if (cur !== "") out.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur !== "") out.push(cur);
  return out;
}


export function parseRustDepInfo(text: string): RustDepInfo | null {
  const targets: string[] = [];
  const deps = new Set<string>();
  const envNames: string[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      const m = /^# env-dep:([^=]*)/.exec(line);
      if (m !== null) envNames.push(m[1] as string);
      continue;
    }
    const colon = findRuleColon(line);
    if (colon < 0) return null;
    const lhs = words(line.slice(0, colon)).map(unescape);
    const rhs = words(line.slice(colon + 1)).map(unescape);
    // `file:` lines with no prerequisites are rustc's phony rules for the sources.
    if (rhs.length === 0) {
      for (const t of lhs) deps.add(t);
      continue;
    }
    targets.push(...lhs);
    for (const d of rhs) deps.add(d);
  }
  return { targets, deps: [...deps], envNames: [...new Set(envNames)] };
}

const NUL = "\u0000";
const CWD_PLACEHOLDER = `${NUL}cwd${NUL}`;
// Built from a string: a regex literal with NUL trips the control-character lint.
const PLACEHOLDER = new RegExp(`${NUL}(cwd|out:[^${NUL}]*)${NUL}`, "g");
const outputPlaceholder = (role: string): string => `${NUL}out:${role}${NUL}`;

/**
 * Replaces the outputs (rule targets, matched exactly as rustc wrote them) and the cwd
 * prefix of absolute prerequisites with placeholders. Null when a target is not one of
 * the outputs we know, since a hit could not write it correctly.
 */
export function depInfoTemplate(
  text: string,
  outputs: readonly { readonly role: string; readonly written: string }[],
  cwd: string,
): string | null {
  const byWritten = new Map(outputs.map((o) => [escapeDepPath(o.written), o.role]));
  const cwdPrefix = cwd === "/" ? null : escapeDepPath(cwd.endsWith("/") ? cwd : `${cwd}/`);
  const lines: string[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) {
      lines.push(line);
      continue;
    }
    const colon = findRuleColon(line);
    if (colon < 0) return null;
    const lhs = words(line.slice(0, colon));
    const rhs = words(line.slice(colon + 1));
    const mapSource = (w: string): string =>
      cwdPrefix !== null && w.startsWith(cwdPrefix) ? CWD_PLACEHOLDER + w.slice(cwdPrefix.length - 1) : w;
    let left: string[];
    if (rhs.length === 0) {
      left = lhs.map(mapSource);
    } else {
      left = [];
      for (const w of lhs) {
        const role = byWritten.get(w);
        if (role === undefined) return null;
        left.push(outputPlaceholder(role));
      }
    }
    const right = rhs.map(mapSource);
    lines.push(right.length === 0 ? `${left.join(" ")}:` : `${left.join(" ")}: ${right.join(" ")}`);
  }
  return lines.join("\n");
}

/** Fills a template in for the current outputs and cwd; null if a placeholder is unknown. */
export function fillDepInfoTemplate(
  template: string,
  outputs: readonly { readonly role: string; readonly written: string }[],
  cwd: string,
): string | null {
  const byRole = new Map(outputs.map((o) => [o.role, escapeDepPath(o.written)]));
  const cwdNoSlash = escapeDepPath(cwd.endsWith("/") && cwd.length > 1 ? cwd.slice(0, -1) : cwd);
  let unknown = false;
  const filled = template.replace(PLACEHOLDER, (_m, what: string) => {
    if (what === "cwd") return cwdNoSlash;
    const w = byRole.get(what.slice(4));
    if (w === undefined) {
      unknown = true;
      return "";
    }
    return w;
  });
  return unknown ? null : filled;
}
