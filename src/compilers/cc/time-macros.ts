// Finds __DATE__, __TIME__ and __TIMESTAMP__ used as tokens (not in comments or strings):
// a translation unit that uses them produces a different object every time.
const NEEDLES = ["__DATE__", "__TIME__", "__TIMESTAMP__"];

function isIdentChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
}

/** Fast pre-check: most files never mention the macros at all. */
function mentionsAny(buf: Buffer): boolean {
  return NEEDLES.some((n) => buf.includes(n));
}

/**
 * Inline assembly that reads files (`.incbin`, `.include`: the assembler's own, so no depfile
 * names them), or `#pragma GCC dependency`: see FileFacts.opaqueInputs. Adjacent string
 * literals are joined first (`".inc" "bin"` is `.incbin` to the assembler). A directive name a
 * macro builds is beyond this check (README, Known limitations).
 */
export function hasOpaqueInputs(buf: Buffer): boolean {
  if (buf.includes("incbin")) return true;
  if (buf.includes("asm") || buf.includes(".include")) {
    const joined = buf.toString("latin1").replace(/"\s*"/g, "");
    if (/incbin/i.test(joined) || /"[^"\n]*\.include\b/i.test(joined)) return true;
  }
  return buf.includes("dependency") && /#\s*pragma\s+GCC\s+dependency\b/.test(buf.toString("latin1"));
}

/**
 * `#include "/abs/x.h"`, or an include whose name a macro builds: the file names a header
 * by a path that is not relative to anything we record, so an entry that uses it must stay
 * with its tree (a copy of the source would still read the first tree's header).
 */
export function hasAbsoluteIncludes(buf: Buffer): boolean {
  if (!buf.includes("include") && !buf.includes("import")) return false;
  return /^[ \t]*#[ \t]*(?:include_next|include|import)\b(?:[ \t]*[<"][ \t]*\/|[ \t]+[A-Za-z_])/m.test(buf.toString("latin1"));
}

export function usesTimeMacros(buf: Buffer): boolean {
  if (!mentionsAny(buf)) return false;
  const s = buf.toString("latin1");
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 47 /* / */ && s.charCodeAt(i + 1) === 47) {
      // line comment, with backslash continuations
      i += 2;
      while (i < n && s.charCodeAt(i) !== 10) i += s.charCodeAt(i) === 92 ? 2 : 1;
      continue;
    }
    if (c === 47 && s.charCodeAt(i + 1) === 42 /* * */) {
      const end = s.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === 34 /* " */ || c === 39 /* ' */) {
      // raw strings R"(...)" are rare in headers that matter here; treat as ordinary strings
      i++;
      while (i < n && s.charCodeAt(i) !== c && s.charCodeAt(i) !== 10) i += s.charCodeAt(i) === 92 ? 2 : 1;
      i++;
      continue;
    }
    if (isIdentChar(c)) {
      const start = i;
      while (i < n && isIdentChar(s.charCodeAt(i))) i++;
      const word = s.slice(start, i);
      if (word === "__DATE__" || word === "__TIME__" || word === "__TIMESTAMP__") return true;
      continue;
    }
    i++;
  }
  return false;
}
