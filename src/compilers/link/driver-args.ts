// Classifies gcc/clang/emcc used as a link driver: the driver's own options come from the
// C/C++ option table (plus emcc's, below); what reaches the linker (-L, -l, -T, -Wl, -Xlinker
// and the inputs) is rebuilt in order and parsed with the linker table.
import * as path from "node:path";
import { lookupOption, optionValue } from "../cc/options.ts";
import type { CcFamily } from "../family.ts";
import { type LinkClassification, type LinkTool, notCacheable } from "./invocation.ts";
import { parseLinkerArgs } from "./ld-args.ts";

/** Inputs the driver would compile first: a link that compiles is not cached. */
const SOURCE_EXTENSIONS = new Set([
  ".c", ".cc", ".cp", ".cxx", ".cpp", ".CPP", ".c++", ".C", ".m", ".mm", ".M", ".mi", ".mii", ".i", ".ii",
  ".s", ".S", ".sx", ".asm", ".ll", ".f", ".for", ".f90", ".f95", ".F", ".F90", ".go", ".d", ".adb", ".ads",
  ".cu", ".cl", ".rs",
]);

type EmccRole =
  | "plain"
  | "input" // the value is a file emcc reads
  | "input-spec" // --embed-file src@dst: the part before an unescaped @ is read
  | "setting" // -s NAME=VALUE: VALUE may be @file
  | "side-output" // the value is a file emcc writes
  | "too-hard";

interface EmccSpec {
  readonly style: "none" | "separate";
  readonly role: EmccRole;
}

const e = (style: EmccSpec["style"], role: EmccRole): EmccSpec => ({ style, role });

/** emcc's own options. Separate ones also accept `--name=value`. */
const EMCC_OPTIONS: ReadonlyMap<string, EmccSpec> = new Map<string, EmccSpec>([
  ["-s", e("separate", "setting")],
  ["--js-library", e("separate", "input")],
  ["--pre-js", e("separate", "input")],
  ["--post-js", e("separate", "input")],
  ["--extern-pre-js", e("separate", "input")],
  ["--extern-post-js", e("separate", "input")],
  ["--shell-file", e("separate", "input")],
  ["--embed-file", e("separate", "input-spec")],
  ["--preload-file", e("separate", "input-spec")],
  ["--exclude-file", e("separate", "plain")],
  ["--closure", e("separate", "plain")],
  ["--closure-args", e("separate", "plain")],
  ["--minify", e("separate", "plain")],
  ["--memory-init-file", e("separate", "plain")],
  ["--source-map-base", e("separate", "plain")],
  ["--llvm-lto", e("separate", "plain")],
  ["--llvm-opts", e("separate", "plain")],
  ["--output_eol", e("separate", "plain")],
  ["--cache", e("separate", "plain")],
  ["--valid-abspath", e("separate", "plain")],
  ["--oformat", e("separate", "plain")],
  ["--default-obj-ext", e("separate", "plain")],
  ["--emit-symbol-map", e("none", "plain")],
  ["--profiling", e("none", "plain")],
  ["--profiling-funcs", e("none", "plain")],
  ["--bind", e("none", "plain")],
  ["--no-entry", e("none", "plain")],
  ["--emrun", e("none", "plain")],
  ["--cpuprofiler", e("none", "plain")],
  ["--memoryprofiler", e("none", "plain")],
  ["--threadprofiler", e("none", "plain")],
  ["--use-preload-cache", e("none", "plain")],
  ["--use-preload-plugins", e("none", "plain")],
  ["--no-heap-copy", e("none", "plain")],
  ["--ignore-dynamic-linking", e("none", "plain")],
  ["--tracing", e("none", "plain")],
  ["--em-config", e("separate", "too-hard")],
  ["--js-transform", e("separate", "too-hard")],
  ["--clear-cache", e("none", "too-hard")],
  ["--clear-ports", e("none", "too-hard")],
  ["--show-ports", e("none", "too-hard")],
  ["--check", e("none", "too-hard")],
  ["--cflags", e("none", "too-hard")],
  ["--generate-config", e("separate", "too-hard")],
  ["--save-bc", e("separate", "too-hard")],
]);

function lookupEmcc(arg: string): { spec: EmccSpec; value: string | null; consumesNext: boolean } | null {
  const exact = EMCC_OPTIONS.get(arg);
  if (exact !== undefined) return { spec: exact, value: null, consumesNext: exact.style === "separate" };
  const eq = arg.indexOf("=");
  if (arg.startsWith("--") && eq > 0) {
    const spec = EMCC_OPTIONS.get(arg.slice(0, eq));
    if (spec?.style === "separate") return { spec, value: arg.slice(eq + 1), consumesNext: false };
  }
  // -sNAME=VALUE: settings are upper case, which keeps gcc's -static, -shared, -std= apart.
  if (/^-s[A-Z]/.test(arg)) return { spec: e("separate", "setting"), value: arg.slice(2), consumesNext: false };
  if (arg.startsWith("-gseparate-dwarf=")) return { spec: e("separate", "side-output"), value: arg.slice(17), consumesNext: false };
  return null;
}

/** `src@dst` → `src`; `@@` is a literal @. */
function embedSource(spec: string): string {
  let out = "";
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i] as string;
    if (c === "@") {
      if (spec[i + 1] === "@") {
        out += "@";
        i++;
        continue;
      }
      break;
    }
    out += c;
  }
  return out;
}

export function isSourceFile(p: string): boolean {
  return SOURCE_EXTENSIONS.has(path.extname(p));
}

/**
 * `args` are the driver's arguments after response-file expansion (for emcc, followed by the
 * words of EMCC_CFLAGS, which emcc appends).
 */
export function classifyDriverLink(args: readonly string[], family: CcFamily): LinkClassification {
  const ldArgs: string[] = [];
  const emccInputs: string[] = [];
  const emccSideOutputs: string[] = [];
  let output: string | null = null;
  let fuseLd: string | null = null;
  let sysroot: string | null = null;
  let staticLink = false;

  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "-") return notCacheable("stdin-input", "input from standard input");
    if (!a.startsWith("-")) {
      if (isSourceFile(a)) return notCacheable("compile-and-link", a);
      ldArgs.push(a);
      continue;
    }
    if (family === "emcc") {
      const em = lookupEmcc(a);
      if (em !== null) {
        let value = em.value;
        if (em.consumesNext) {
          value = args[i + 1] ?? null;
          if (value === null) return notCacheable("too-hard", `${a} without its argument`);
          i++;
        }
        const v = value ?? "";
        switch (em.spec.role) {
          case "plain":
            break;
          case "input":
            emccInputs.push(v);
            break;
          case "input-spec":
            emccInputs.push(embedSource(v));
            break;
          case "setting": {
            const at = v.indexOf("=@");
            if (at >= 0) emccInputs.push(v.slice(at + 2));
            break;
          }
          case "side-output":
            emccSideOutputs.push(v);
            break;
          case "too-hard":
            return notCacheable("too-hard", a);
        }
        continue;
      }
    }
    const found = lookupOption(a);
    if (found === null) return notCacheable("unknown-option", a);
    const { name, spec } = found;
    const read = optionValue(args, i, found);
    if (read === null) return notCacheable("too-hard", `${a} without its argument`);
    const value = read.value;
    i = read.next;
    switch (spec.role) {
      case "output":
        output = value;
        break;
      case "linker":
        if (name === "-Wl,") ldArgs.push(...value.split(","));
        else if (name === "-Xlinker") ldArgs.push(value);
        else if (name === "-L" || name === "-l" || name === "-T") ldArgs.push(name, value);
        else if (name === "-static") staticLink = true;
        else if (name === "-fuse-ld=") fuseLd = value;
        break;
      case "plain":
        if (name === "--sysroot" || name === "--sysroot=") sysroot = value;
        break;
      case "include-dir":
      case "include-dir-quote":
      case "include-dir-system":
      case "include-dir-after":
      case "dep-md":
      case "dep-mmd":
      case "dep-file":
      case "dep-target":
      case "dep-flag":
      case "color":
      case "arch":
        break;
      case "language":
      case "mode-compile":
      case "mode-assemble":
      case "preprocess-only":
      case "save-temps":
      case "too-hard":
        return notCacheable("too-hard", a);
    }
  }

  const ld = parseLinkerArgs(ldArgs, staticLink);
  if (!ld.ok) return notCacheable(ld.reason, ld.detail);
  if (ld.args.output !== null) return notCacheable("too-hard", "-o passed to the linker");
  const tool: LinkTool = family === "emcc" ? { kind: "emcc" } : { kind: "driver", family, fuseLd };
  return {
    kind: "link",
    tool,
    ...ld.args,
    output: output ?? (family === "emcc" ? "a.out.js" : "a.out"),
    inputs: [...ld.args.inputs, ...emccInputs],
    sideOutputs: [...ld.args.sideOutputs, ...emccSideOutputs],
    sysroot: sysroot ?? ld.args.sysroot,
  };
}

/** A direct ld / ld.lld / ld.gold / wasm-ld invocation. */
export function classifyLinkerLink(args: readonly string[], wasm: boolean): LinkClassification {
  const ld = parseLinkerArgs(args);
  if (!ld.ok) return notCacheable(ld.reason, ld.detail);
  return {
    kind: "link",
    tool: wasm ? { kind: "wasm-ld" } : { kind: "ld" },
    ...ld.args,
    output: ld.args.output ?? "a.out",
  };
}
