// Parses linker-level arguments (ld, gold, lld, wasm-ld, or what a driver hands to them) with
// the option table: which files are read, which written, and how libraries are searched.
import type { UncacheableReason } from "../../stats/outcomes.ts";
import type { LibRef, LinkerArgs, LinkHint } from "./invocation.ts";
import {
  isFlagFamily,
  LD_LONG_OPTIONS,
  LD_LONG_PREFIXES,
  LD_SHORT_OPTIONS,
  type LdOptionSpec,
} from "./ld-options.ts";

export type LdParse =
  | { readonly ok: true; readonly args: LinkerArgs }
  | { readonly ok: false; readonly reason: UncacheableReason; readonly detail: string };

interface Found {
  readonly spec: LdOptionSpec;
  /** The value, or null when the option takes none (or an optional one was not given). */
  readonly value: string | null;
  /** Whether the value is the next argument. */
  readonly consumesNext: boolean;
}

/** Looks one argument up: long names first (with one or two dashes), then short options. */
export function lookupLdOption(arg: string): Found | null {
  const dashes = arg.startsWith("--") ? 2 : 1;
  const body = arg.slice(dashes);
  const eq = body.indexOf("=");
  const name = eq >= 0 ? body.slice(0, eq) : body;
  const joined = eq >= 0 ? body.slice(eq + 1) : null;
  const long =
    LD_LONG_OPTIONS.get(name) ??
    LD_LONG_PREFIXES.find(([p]) => name.startsWith(p))?.[1] ??
    (isFlagFamily(name) ? ({ style: "none", role: "plain" } as const) : undefined);
  if (long !== undefined) {
    if (long.style === "separate") return { spec: long, value: joined, consumesNext: joined === null };
    return { spec: long, value: joined, consumesNext: false };
  }
  if (dashes === 2) return null;
  const short = LD_SHORT_OPTIONS.get(body.charAt(0));
  if (short === undefined) return null;
  if (short.style === "none") return body.length === 1 ? { spec: short, value: null, consumesNext: false } : null;
  const glued = body.slice(1);
  return { spec: short, value: glued === "" ? null : glued, consumesNext: glued === "" };
}

/** Linker plugin options that make the plugin write files of its own. */
const PLUGIN_OPT_WRITES = /(^|[-=])(obj-path|dwo_dir|save-temps|emit-llvm|emit-asm|thinlto-index-only|cache-dir)/;

export function parseLinkerArgs(args: readonly string[], initiallyArchiveOnly = false): LdParse {
  const inputs: string[] = [];
  const maybeInputs: string[] = [];
  const libDirs: string[] = [];
  const libs: LibRef[] = [];
  const sideOutputs: string[] = [];
  const hints: LinkHint[] = [];
  let output: string | null = null;
  let userDepfile: string | null = null;
  let sysroot: string | null = null;
  let userVerbose = false;
  let archiveOnly = initiallyArchiveOnly;
  const fail = (reason: UncacheableReason, detail: string): LdParse => ({ ok: false, reason, detail });

  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a.startsWith("@")) return fail("too-hard", `response file ${a} for the linker`);
    if (!a.startsWith("-") || a === "-") {
      if (a === "-") return fail("stdin-input", "linker input from standard input");
      inputs.push(a);
      continue;
    }
    const found = lookupLdOption(a);
    if (found === null) return fail("unknown-option", a);
    let value = found.value;
    if (found.consumesNext) {
      const next = args[i + 1];
      if (next === undefined) return fail("too-hard", `${a} without its argument`);
      value = next;
      i++;
    }
    const v = value ?? "";
    switch (found.spec.role) {
      case "plain":
        break;
      case "output":
        output = v;
        break;
      case "input":
        inputs.push(v);
        break;
      case "input-or-dir":
        maybeInputs.push(v);
        break;
      case "lib-dir":
        libDirs.push(v);
        break;
      case "lib":
        libs.push(v.startsWith(":") ? { name: v.slice(1), verbatim: true, archiveOnly } : { name: v, verbatim: false, archiveOnly });
        break;
      case "static":
        archiveOnly = true;
        break;
      case "dynamic":
        archiveOnly = false;
        break;
      case "side-output":
        sideOutputs.push(v);
        break;
      case "dep-file":
        userDepfile = v;
        break;
      case "sysroot":
        sysroot = v;
        break;
      case "build-id":
        if (value === "uuid") hints.push("build-id-uuid");
        break;
      case "verbose":
        userVerbose = true;
        break;
      case "plugin-opt":
        if (PLUGIN_OPT_WRITES.test(v) || PLUGIN_OPT_WRITES.test(a)) return fail("too-hard", a);
        break;
      case "too-hard":
        return fail("too-hard", a);
    }
  }
  return { ok: true, args: { inputs, maybeInputs, libDirs, libs, output, sideOutputs, userDepfile, sysroot, userVerbose, hints } };
}
