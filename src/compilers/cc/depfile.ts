// Parses the prerequisites out of a Make-style depfile as gcc and clang write it.
export function parseDepfile(text: string): string[] {
  const deps: string[] = [];
  // Join continuation lines, then split rules on unescaped newlines.
  const joined = text.replace(/\\\r?\n/g, " ");
  for (const line of joined.split(/\r?\n/)) {
    const colon = findRuleColon(line);
    if (colon < 0) continue;
    for (const word of splitWords(line.slice(colon + 1))) deps.push(word);
  }
  return deps;
}

/** The ':' separating a Make rule's targets from its prerequisites (an escaped `\:` is part of a name). */
export function findRuleColon(line: string): number {
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === ":" && (line[i + 1] === " " || line[i + 1] === "\t" || i + 1 === line.length)) return i;
  }
  return -1;
}

function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === "\\" && (s[i + 1] === " " || s[i + 1] === "#" || s[i + 1] === "\\")) {
      cur += s[i + 1];
      i++;
    } else if (c === "$" && s[i + 1] === "$") {
      cur += "$";
      i++;
    } else if (c === " " || c === "\t") {
      if (cur !== "") out.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur !== "") out.push(cur);
  return out;
}
