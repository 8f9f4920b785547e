// Where a C/C++ compile's outputs depend on the location of the tree and on their own names,
// and the location-free ("portable") form of its arguments for the key.
//
// Measured with gcc 12 and clang 14 (an object compiled by absolute path in two checkouts,
// and the same source compiled to two -o names): without the options below, neither the
// working directory, nor where the source lives, nor the output's name reaches the object.
// Debug info records the working directory and paths as spelled; coverage, profiling and
// split DWARF record output names; sanitizers record source paths; the driver can record its
// whole command line. Anything else that can carry a path (__FILE__, diagnostics, a depfile)
// is checked on the miss, per entry (see cc-miss).
import { BASE_RELATIVE, relativeToCwd, remapPairs } from "../../platform/relative-paths.ts";
import { INCLUDE_PATH_VARS } from "./plan.ts";

/** Settings of one build that decide how far its entries may travel. */
export interface Relocation {
  /** Absolute, normalised directories whose paths are written relative to the cwd. */
  readonly baseDirs: readonly string[];
  /** ZCCACHE_PATH_REMAP: we add prefix maps so debug info and __FILE__ are cwd-relative. */
  readonly remap: boolean;
}

export const NO_RELOCATION: Relocation = { baseDirs: [], remap: false };

/** Options after which the output's own name is inside the outputs. */
const NAME_EMBEDDING = [
  /^-gsplit-dwarf/,
  /^--?coverage$/,
  /^-fprofile-/,
  /^-fno-profile-/,
  /^-ftest-coverage$/,
  /^-fcoverage-/,
  /^-fcs-profile-/,
  /^-fstack-usage$/,
  /^-fcallgraph-info/,
  /^-fdump-/,
  /^-save-temps/,
  /^-dumpbase/,
  /^-dumpdir/,
  /^-auxbase/,
  /^-aux-info/,
];

/** Options after which the working directory or paths as spelled are inside the outputs, always. */
const LOCATION_EMBEDDING = [
  ...NAME_EMBEDDING,
  /^-fsanitize/,
  /^-frecord-gcc-switches$/,
  /^-f(no-)?record-command-line$/,
  /^-grecord-command-line$/,
  /^-f(debug|file|coverage)-compilation-dir/,
  // What a pass-through carries is not modelled here: assume the worst.
  /^-Wa,/,
  /^-Xassembler$/,
  /^-Xclang$/,
  /^-mllvm$/,
  /^-Wp,/,
  /^-Xpreprocessor$/,
];

function isDebugOption(a: string): boolean {
  // -g, -g3, -ggdb, -gdwarf-4, -gz, …; "-g0" alone turns it off. Conservative on purpose.
  return a.startsWith("-g") && a !== "-g0" && !a.startsWith("-gno-");
}

export interface KeyMode {
  /** The output names stay in the key: the compile writes them into its outputs. */
  readonly namesBound: boolean;
  /** The cwd and the paths as spelled stay in the key: the compile writes them into its outputs. */
  readonly locationBound: boolean;
}

export function keyMode(args: readonly string[], reloc: Relocation): KeyMode {
  const namesBound = args.some((a) => NAME_EMBEDDING.some((re) => re.test(a)));
  const locationBound = args.some((a) => LOCATION_EMBEDDING.some((re) => re.test(a)) || (!reloc.remap && isDebugOption(a)));
  return { namesBound, locationBound };
}

/** Options whose value names an output or a depfile target: not in a portable key. */
const OUTPUT_NAMING = ["-o", "-MF", "-MT", "-MQ"] as const;

/** Options whose value is a path, attached (`-I/x`) or separate (`-I /x`). */
const PATH_OPTIONS = [
  "-I",
  "-iquote",
  "-isystem",
  "-idirafter",
  "-iprefix",
  "-iwithprefix",
  "-iwithprefixbefore",
  "-include",
  "-imacros",
  "-isysroot",
  "--sysroot",
  "-B",
  "-L",
  "-F",
] as const;

function portablePath(p: string, cwd: string, baseDirs: readonly string[]): string {
  const rel = relativeToCwd(p, cwd, baseDirs);
  return rel === null ? p : BASE_RELATIVE + rel;
}

/**
 * The job's arguments as they go into a portable key: output names dropped unless bound, and
 * absolute paths under a base dir rewritten relative to the cwd (marked, so they never equal
 * an argument that was written relative). An argument that still names a base dir another
 * way (`-DROOT="/base/x"`) stays as written; an entry whose key names its tree that way
 * serves only its cwd (cc-relocation.ts placeHeld).
 */
export function portableArgs(args: readonly string[], cwd: string, reloc: Relocation, mode: KeyMode): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!mode.namesBound) {
      const naming = OUTPUT_NAMING.find((o) => a.startsWith(o));
      if (naming !== undefined) {
        out.push(naming);
        if (a === naming) i++;
        continue;
      }
    }
    if (mode.locationBound) {
      out.push(a);
      continue;
    }
    const opt = PATH_OPTIONS.find((o) => a.startsWith(o));
    if (opt !== undefined && a === opt && i + 1 < args.length) {
      out.push(a, portablePath(args[i + 1] as string, cwd, reloc.baseDirs));
      i++;
      continue;
    }
    if (opt !== undefined && a.length > opt.length) {
      const value = a.slice(opt.length);
      const eq = value.startsWith("=") ? "=" : "";
      out.push(opt + eq + portablePath(value.slice(eq.length), cwd, reloc.baseDirs));
      continue;
    }
    const prefixMap = /^(-f(?:file|macro|debug|profile)-prefix-map=)([^=]*)(=.*)$/.exec(a);
    if (prefixMap !== null) {
      out.push((prefixMap[1] as string) + portablePath(prefixMap[2] as string, cwd, reloc.baseDirs) + (prefixMap[3] as string));
      continue;
    }
    out.push(portablePath(a, cwd, reloc.baseDirs));
  }
  return out;
}

/**
 * The job's environment as it goes into a portable key: the include path variables' absolute
 * directories under a base dir rewritten relative to the cwd, as -I arguments are (the
 * headers found through them are recorded relative too); everything else as it is.
 */
export function portableEnv(env: Readonly<Record<string, string>>, cwd: string, reloc: Relocation, mode: KeyMode): Readonly<Record<string, string>> {
  if (mode.locationBound || reloc.baseDirs.length === 0 || !INCLUDE_PATH_VARS.some((v) => env[v] !== undefined)) return env;
  const out: Record<string, string> = { ...env };
  for (const v of INCLUDE_PATH_VARS) {
    const value = env[v];
    if (value !== undefined) out[v] = value.split(":").map((d) => (d === "" ? d : portablePath(d, cwd, reloc.baseDirs))).join(":");
  }
  return out;
}

/**
 * ZCCACHE_PATH_REMAP for gcc and clang: gcc tries the last map given first and clang the
 * longest, so with remapPairs' order both pick the deepest match.
 */
export function remapArgs(cwd: string, reloc: Relocation): string[] {
  if (!reloc.remap) return [];
  return remapPairs(cwd, reloc.baseDirs).map(([from, to]) => `-ffile-prefix-map=${from}=${to}`);
}

/** Strings whose presence in an output's bytes ties it to this tree. */
export function locationMarkers(cwd: string, reloc: Relocation, logicalCwd: string = cwd): string[] {
  const out = new Set<string>();
  for (const d of [cwd, logicalCwd]) if (d !== "/") out.add(d);
  for (const b of reloc.baseDirs) if (b !== "/") out.add(b);
  return [...out];
}

export function mentionsLocation(bytes: Buffer, markers: readonly string[]): boolean {
  return markers.some((m) => bytes.includes(m));
}
