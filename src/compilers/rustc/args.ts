// Classifies a rustc command line (as cargo passes it behind RUSTC_WRAPPER): a cacheable
// compile with everything the cache needs to know about it, or a reason it is not cacheable.
import type { UncacheableReason } from "../../stats/outcomes.ts";
import {
  CODEGEN_OPTIONS,
  CRATE_TYPES,
  type CrateType,
  EMIT_KINDS,
  type EmitKind,
  RUST_OPTIONS,
  type RustOptionSpec,
  UNSTABLE_TOO_HARD,
} from "./options.ts";

export interface EmitRequest {
  readonly kind: EmitKind;
  /** An explicit `--emit kind=PATH`, as written. */
  readonly path: string | null;
}

export interface ExternCrate {
  readonly name: string;
  /** `noprelude:`, `priv:`, … as written, or "". */
  readonly modifiers: string;
  readonly path: string | null;
}

export type SearchKind = "all" | "dependency" | "crate" | "native" | "framework";

export interface SearchPath {
  readonly kind: SearchKind;
  readonly path: string;
}

export interface LinkLib {
  /** "dylib", "static", "framework", "link-arg", as rustc reads `-l KIND[:MODS]=NAME`. */
  readonly kind: string;
  readonly verbatim: boolean;
  readonly name: string;
}

/** One argument as the key sees it: a canonical option name and its value. */
export interface KeyArg {
  readonly name: string;
  readonly value: string | null;
  /** The value is a path (or starts with one): normalised against cwd and the target dir. */
  readonly path: "none" | "value" | "after-kind" | "remap";
}

export interface RustInvocation {
  readonly input: string;
  readonly crateName: string;
  readonly crateTypes: readonly CrateType[];
  readonly emits: readonly EmitRequest[];
  readonly outDir: string | null;
  readonly extraFilename: string;
  readonly externs: readonly ExternCrate[];
  readonly searchPaths: readonly SearchPath[];
  readonly linkLibs: readonly LinkLib[];
  readonly linker: string | null;
  /** `-C link-arg(s)` words: any that name a file are hashed for linking crate types. */
  readonly linkArgs: readonly string[];
  readonly target: string | null;
  readonly remaps: readonly { readonly from: string; readonly to: string }[];
  readonly targetCpuNative: boolean;
  /** `--color` as written, or null (then a human-format run colours only on a terminal). */
  readonly color: string | null;
  readonly errorFormat: string | null;
  /** Everything else that can change the result, in order, output locations left out. */
  readonly keyArgs: readonly KeyArg[];
}

export type RustClassification =
  | { readonly kind: "cacheable"; readonly inv: RustInvocation }
  | { readonly kind: "not-cacheable"; readonly reason: UncacheableReason; readonly detail: string };

const SEARCH_KINDS: ReadonlySet<string> = new Set(["all", "dependency", "crate", "native", "framework"]);

interface Parsed {
  readonly spec: RustOptionSpec;
  readonly name: string;
  readonly value: string | null;
}

/** Reads one option at `args[i]` (from the option table); returns it and how many words it used. */
export function readOption(args: readonly string[], i: number): { parsed: Parsed[]; used: number } | "unknown" | "missing-value" {
  const a = args[i] as string;
  if (a.startsWith("--")) {
    const eq = a.indexOf("=");
    const name = eq < 0 ? a : a.slice(0, eq);
    const spec = RUST_OPTIONS.get(name);
    if (spec === undefined) return "unknown";
    if (spec.style === "flag") return eq < 0 ? { parsed: [{ spec, name, value: null }], used: 1 } : "unknown";
    if (eq >= 0) return { parsed: [{ spec, name, value: a.slice(eq + 1) }], used: 1 };
    const next = args[i + 1];
    return next === undefined ? "missing-value" : { parsed: [{ spec, name, value: next }], used: 2 };
  }
  const name = a.slice(0, 2);
  const spec = RUST_OPTIONS.get(name);
  if (spec === undefined) return "unknown";
  if (spec.style === "value") {
    if (a.length > 2) return { parsed: [{ spec, name, value: a.slice(2) }], used: 1 };
    const next = args[i + 1];
    return next === undefined ? "missing-value" : { parsed: [{ spec, name, value: next }], used: 2 };
  }
  // Grouped short flags: -vV.
  const parsed: Parsed[] = [];
  for (const ch of a.slice(1)) {
    const s = RUST_OPTIONS.get(`-${ch}`);
    if (s === undefined || s.style !== "flag") return "unknown";
    parsed.push({ spec: s, name: `-${ch}`, value: null });
  }
  return { parsed, used: 1 };
}

function splitKindPath(v: string): SearchPath {
  const eq = v.indexOf("=");
  if (eq > 0 && SEARCH_KINDS.has(v.slice(0, eq))) return { kind: v.slice(0, eq) as SearchKind, path: v.slice(eq + 1) };
  return { kind: "all", path: v };
}

function parseLinkLib(v: string): LinkLib {
  const eq = v.indexOf("=");
  let kindPart = "dylib";
  let namePart = v;
  if (eq >= 0) {
    kindPart = v.slice(0, eq);
    namePart = v.slice(eq + 1);
  }
  const colon = kindPart.indexOf(":");
  const kind = colon < 0 ? kindPart : kindPart.slice(0, colon);
  const mods = colon < 0 ? "" : kindPart.slice(colon + 1);
  const name = namePart.split(":")[0] ?? namePart;
  return { kind, verbatim: /(^|,)\+verbatim/.test(mods), name };
}

function parseExtern(v: string): ExternCrate {
  const eq = v.indexOf("=");
  const head = eq < 0 ? v : v.slice(0, eq);
  const colon = head.lastIndexOf(":");
  return {
    modifiers: colon < 0 ? "" : head.slice(0, colon),
    name: colon < 0 ? head : head.slice(colon + 1),
    path: eq < 0 ? null : v.slice(eq + 1),
  };
}

const notCacheable = (reason: UncacheableReason, detail: string): RustClassification => ({
  kind: "not-cacheable",
  reason,
  detail,
});

export function classifyRustc(args: readonly string[]): RustClassification {
  const inputs: string[] = [];
  const crateTypes: CrateType[] = [];
  const emits: EmitRequest[] = [];
  const externs: ExternCrate[] = [];
  const searchPaths: SearchPath[] = [];
  const linkLibs: LinkLib[] = [];
  const linkArgs: string[] = [];
  const remaps: { from: string; to: string }[] = [];
  const keyArgs: KeyArg[] = [];
  let crateName: string | null = null;
  let outDir: string | null = null;
  let extraFilename = "";
  let linker: string | null = null;
  let target: string | null = null;
  let targetCpuNative = false;
  let color: string | null = null;
  let errorFormat: string | null = null;
  let info = false;
  let print = false;
  let test = false;

  for (let i = 0; i < args.length; ) {
    const a = args[i] as string;
    if (a === "-" || !a.startsWith("-") || a.length === 1) {
      inputs.push(a);
      i++;
      continue;
    }
    const r = readOption(args, i);
    if (r === "unknown") return notCacheable("unknown-option", a);
    if (r === "missing-value") return notCacheable("too-hard", `${a} has no value`);
    i += r.used;
    for (const { spec, name, value } of r.parsed) {
      const v = value ?? "";
      switch (spec.role) {
        case "key":
          keyArgs.push({ name, value, path: "none" });
          if (name === "--color") color = v;
          if (name === "--error-format") errorFormat = v;
          break;
        case "crate-name":
          crateName = v;
          keyArgs.push({ name, value, path: "none" });
          break;
        case "crate-type":
          for (const t of v.split(",")) {
            if (!(CRATE_TYPES as readonly string[]).includes(t)) return notCacheable("too-hard", `crate type ${t}`);
            crateTypes.push(t as CrateType);
          }
          keyArgs.push({ name, value, path: "none" });
          break;
        case "emit":
          for (const part of v.split(",")) {
            const eq = part.indexOf("=");
            const kind = eq < 0 ? part : part.slice(0, eq);
            if (!(EMIT_KINDS as readonly string[]).includes(kind)) return notCacheable("too-hard", `emit ${kind}`);
            emits.push({ kind: kind as EmitKind, path: eq < 0 ? null : part.slice(eq + 1) });
            keyArgs.push({ name, value: eq < 0 ? kind : `${kind}=<explicit>`, path: "none" });
          }
          break;
        case "out-dir":
          outDir = v;
          break;
        case "output-file":
          // rustc derives the other outputs' names from -o in ways that depend on the kinds.
          return notCacheable("too-hard", "-o");
        case "extern":
          externs.push(parseExtern(v));
          break;
        case "search-path":
          searchPaths.push(splitKindPath(v));
          keyArgs.push({ name, value, path: "after-kind" });
          break;
        case "link-lib":
          linkLibs.push(parseLinkLib(v));
          keyArgs.push({ name, value, path: "none" });
          break;
        case "codegen": {
          const eq = v.indexOf("=");
          const cname = (eq < 0 ? v : v.slice(0, eq)).replace(/_/g, "-");
          const cval = eq < 0 ? null : v.slice(eq + 1);
          const role = CODEGEN_OPTIONS.get(cname) ?? "key";
          if (role === "too-hard") return notCacheable("too-hard", `-C ${cname}`);
          if (role === "incremental") break;
          if (role === "split-debuginfo" && cval !== "off") return notCacheable("too-hard", `-C split-debuginfo=${cval}`);
          if (role === "extra-filename") extraFilename = cval ?? "";
          if (role === "linker") linker = cval;
          if (role === "link-arg" && cval !== null) {
            for (const w of cname === "link-args" ? cval.split(/\s+/) : [cval]) if (w !== "") linkArgs.push(w);
          }
          if (role === "target-cpu" && cval === "native") targetCpuNative = true;
          keyArgs.push({ name: "-C", value: cval === null ? cname : `${cname}=${cval}`, path: "none" });
          break;
        }
        case "unstable":
          if (UNSTABLE_TOO_HARD.some((p) => v.replace(/_/g, "-").startsWith(p))) return notCacheable("too-hard", `-Z ${v}`);
          keyArgs.push({ name: "-Z", value, path: "none" });
          break;
        case "target":
          target = v;
          keyArgs.push({ name, value, path: v.endsWith(".json") ? "value" : "none" });
          break;
        case "remap": {
          const eq = v.lastIndexOf("=");
          if (eq < 0) return notCacheable("too-hard", `--remap-path-prefix ${v}`);
          remaps.push({ from: v.slice(0, eq), to: v.slice(eq + 1) });
          keyArgs.push({ name, value, path: "remap" });
          break;
        }
        case "print":
          if (v.includes("=")) return notCacheable("too-hard", `--print ${v}`);
          print = true;
          keyArgs.push({ name, value, path: "none" });
          break;
        case "info":
          info = true;
          break;
        case "test":
          test = true;
          break;
        case "too-hard":
          return notCacheable("too-hard", name);
      }
    }
  }

  if (info) return notCacheable("info-query", "prints and exits");
  if (inputs.length === 0) return notCacheable(print ? "info-query" : "no-input", "no input file");
  if (inputs.length > 1) return notCacheable("too-hard", "several inputs");
  const input = inputs[0] as string;
  if (input === "-") return notCacheable("stdin-input", "source from stdin");
  if (test) return notCacheable("test-harness", "--test");
  if (crateTypes.some((t) => t === "dylib" || t === "cdylib")) return notCacheable("dylib-crate", crateTypes.join(","));
  // Without these rustc reads them from crate attributes, and we cannot name the outputs.
  if (crateTypes.length === 0) return notCacheable("too-hard", "no --crate-type");
  if (crateName === null) return notCacheable("too-hard", "no --crate-name");
  if (emits.length === 0) emits.push({ kind: "link", path: null });
  keyArgs.push({ name: "<input>", value: input, path: "value" });
  return {
    kind: "cacheable",
    inv: {
      input,
      crateName,
      crateTypes: [...new Set(crateTypes)],
      emits,
      outDir,
      extraFilename,
      externs,
      searchPaths,
      linkLibs,
      linker,
      linkArgs,
      target,
      remaps,
      targetCpuNative,
      color,
      errorFormat,
      keyArgs,
    },
  };
}

/** Crate types that run the system linker (their output depends on it and on native libs). */
export function linksWithSystemLinker(inv: RustInvocation): boolean {
  return inv.crateTypes.includes("bin") || inv.crateTypes.includes("proc-macro");
}

/** Whether rustc produces the given emit kind. */
export function emits(inv: RustInvocation, kind: EmitKind): boolean {
  return inv.emits.some((e) => e.kind === kind);
}

/**
 * Expands `@path` arguments (one argument per line, as rustc reads them). Null when a file
 * cannot be read or uses a form we do not understand.
 */
export function expandArgFiles(args: readonly string[], readText: (p: string) => string | null): string[] | null {
  if (!args.some((a) => a.startsWith("@"))) return [...args];
  const out: string[] = [];
  for (const a of args) {
    if (!a.startsWith("@")) {
      out.push(a);
      continue;
    }
    if (a.startsWith("@shell:")) return null;
    const text = readText(a.slice(1));
    if (text === null) return null;
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    out.push(...lines);
  }
  return out;
}
