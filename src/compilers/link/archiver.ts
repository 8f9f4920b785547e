// Classifies ar / llvm-ar command lines. Only creating or updating an archive from named
// member files (r, q) is cached; listing, extracting, deleting and moving run as they are.
import type { UncacheableReason } from "../../stats/outcomes.ts";
import { type LinkClassification, notCacheable } from "./invocation.ts";

type ArOptionRole = "plain" | "input" | "too-hard";

/** Options before the key letters: name → whether it takes a value, and what it means. */
const AR_OPTIONS: ReadonlyMap<string, { readonly takesValue: boolean; readonly role: ArOptionRole }> = new Map([
  ["--plugin", { takesValue: true, role: "input" as const }],
  ["--target", { takesValue: true, role: "plain" as const }],
  ["--format", { takesValue: true, role: "plain" as const }],
  ["--rsp-quoting", { takesValue: true, role: "plain" as const }],
  ["--record-libdeps", { takesValue: true, role: "plain" as const }],
  ["-X32_64", { takesValue: false, role: "plain" as const }],
  ["--thin", { takesValue: false, role: "too-hard" as const }],
  ["--output", { takesValue: true, role: "too-hard" as const }],
  ["--version", { takesValue: false, role: "too-hard" as const }],
  ["--help", { takesValue: false, role: "too-hard" as const }],
  ["-M", { takesValue: false, role: "too-hard" as const }],
]);

const OPERATIONS = "dmpqrtx";
/** Modifiers that keep `r`/`q` a pure function of the named files (and the old archive). */
const SAFE_MODIFIERS = "cDUsSvfPlL";
/** Modifiers we refuse: u (compares timestamps), a/b/i (a position member), N (a count), T (thin). */
const KNOWN_MODIFIERS = `${SAFE_MODIFIERS}uabiNToOV`;

export function classifyArchive(args: readonly string[]): LinkClassification {
  const fail = (reason: UncacheableReason, detail: string): LinkClassification => notCacheable(reason, detail);
  const inputs: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i] as string;
    const eq = a.indexOf("=");
    const name = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    const opt = AR_OPTIONS.get(name);
    if (opt === undefined) break;
    let value: string | null = null;
    if (opt.takesValue) {
      if (name !== a) value = a.slice(eq + 1);
      else {
        value = args[i + 1] ?? null;
        if (value === null) return fail("too-hard", `${a} without its argument`);
        i++;
      }
    }
    if (opt.role === "too-hard") return fail("too-hard", a);
    if (opt.role === "input" && value !== null) inputs.push(value);
  }
  const key = args[i];
  if (key === undefined) return fail("no-input", "no operation");
  const letters = key.startsWith("-") ? key.slice(1) : key;
  if (letters === "" || !/^[a-zA-Z]+$/.test(letters)) return fail("unknown-option", key);
  let operation: string | null = null;
  let determinism: "deterministic" | "non-deterministic" | "tool-default" = "tool-default";
  for (const c of letters) {
    if (OPERATIONS.includes(c)) {
      if (operation !== null) return fail("too-hard", `two operations in ${key}`);
      operation = c;
    } else if (!KNOWN_MODIFIERS.includes(c)) {
      return fail("unknown-option", key);
    }
  }
  // `s` alone is an operation (ranlib); as a modifier it asks for a symbol index.
  if (operation === null) operation = letters.includes("s") ? "s" : null;
  if (operation !== "r" && operation !== "q") return fail("archive-operation", key);
  for (const c of letters) {
    if (c === operation) continue;
    if (!SAFE_MODIFIERS.includes(c)) return fail("too-hard", `modifier ${c} in ${key}`);
    if (c === "D") determinism = "deterministic";
    if (c === "U") determinism = "non-deterministic";
  }
  const archive = args[i + 1];
  if (archive === undefined) return fail("no-input", "no archive named");
  const members = args.slice(i + 2);
  for (const m of [archive, ...members]) {
    if (m.startsWith("-") || m.startsWith("@")) return fail("too-hard", `option or response file after the archive: ${m}`);
  }
  return { kind: "archive", archive, inputs: [...members, ...inputs], determinism };
}

/** Parses `ar --help`: whether D (deterministic) is the tool's default. */
export function deterministicByDefault(helpText: string): boolean {
  for (const line of helpText.split("\n")) {
    if (/\[D\].*\(default\)/.test(line)) return true;
    if (/\[U\].*\(default\)/.test(line)) return false;
  }
  return false;
}
