// Whether a C/C++ entry may serve another tree or other output names, decided on the miss
// that stores it. The key already leaves out what the options prove cannot reach the outputs
// (compilers/cc/relocate.ts); what only the compile shows is checked here, and an entry that
// fails any check is bound: it records a digest of its cwd and arguments and serves only
// compiles with the same ones. An entry whose key holds a path of its tree as written is
// place-bound (placeHeld): a digest of its cwd alone, any output name.
import type { CcFamily } from "../compilers/family.ts";
import type { CcJob } from "../compilers/cc/plan.ts";
import { type DepfileTemplate, depfileTargets, depfileTemplate } from "../compilers/cc/depfile-template.ts";
import { type KeyMode, locationMarkers, mentionsLocation, type Relocation } from "../compilers/cc/relocate.ts";
import { sha256Hex } from "../platform/hash.ts";
import { BASE_RELATIVE, baseOf, fromCwd, relativeToCwd } from "../platform/relative-paths.ts";

/**
 * The working directory as bindings and a location-bound key name it: the name the compiler
 * records ($PWD entered through a symlink) and, when that differs, the directory it is now.
 * A re-pointed link keeps the name but leads to another tree, whose files the recorded
 * relative paths would then name.
 */
export function placeOf(cwd: string, logicalCwd: string): string {
  return logicalCwd === cwd ? cwd : `${logicalCwd}\u0000${cwd}`;
}

/** The digest a bound entry carries, and a compile must match to use it. */
export function bindingOf(cwd: string, logicalCwd: string, args: readonly string[]): string {
  return sha256Hex(`${placeOf(cwd, logicalCwd)}\u0000${args.join("\u0000")}`);
}

/**
 * The digest of an entry bound to its working directory alone (placeHeld): any compile with
 * its key in that directory may use it, whatever its output names.
 */
export function placeBindingOf(cwd: string, logicalCwd: string): string {
  return sha256Hex(`place\u0000${placeOf(cwd, logicalCwd)}`);
}

/** Whether `s` names `dir` or a path below it (`/dir`, `-I/dir/inc`, `--sysroot=/dir`, `/x:/dir`). */
function namesPath(s: string, dir: string): boolean {
  for (let i = s.indexOf(dir); i >= 0; i = s.indexOf(dir, i + 1)) {
    const next = s[i + dir.length];
    // Not a longer name that merely starts like it (`/dir2`, `/dir.old`).
    if (next === undefined || !/[\w.+~-]/.test(next)) return true;
  }
  return false;
}

/** What placeHeld looks at. */
export interface PlaceSpellings {
  /** The key's arguments (but the output names) and variables, as the key holds them (portableArgs, portableEnv). */
  readonly key: readonly string[];
  /** The compiler's system include directories: its location is not in the key. */
  readonly systemDirs: readonly string[];
  /** Every input as the compiler spelled it (the source and its depfile). */
  readonly inputs: readonly string[];
}

/**
 * Whether the compile reached this tree by an absolute path that its key holds as written.
 * Inputs below the cwd are recorded relative to it, and ones under a base dir relative to
 * the cwd too (encodePath), which is right for what was reached by a spelling the key holds
 * relative: a compile with the same key in another tree reaches its own copy. A path the key
 * holds as it is leads every directory to the same file, not to the copy the relative
 * record would name there. Such an entry is bound to its cwd (placeBindingOf). That is so
 * when the key still names the cwd or a base dir after its rewriting, when a system
 * directory lies in the tree (the compiler's location is not in the key), or when an input
 * was spelled absolute below a cwd no base dir covers.
 */
export function placeHeld(sp: PlaceSpellings, cwd: string, logicalCwd: string, baseDirs: readonly string[]): boolean {
  const dirs = [cwd, logicalCwd].filter((d) => d !== "/" && d.startsWith("/"));
  const tree = [...new Set([...dirs, ...baseDirs.filter((b) => b !== "/")])];
  const uncovered = dirs.filter((d) => baseOf(d, baseDirs) === null);
  const names = (s: string, marks: readonly string[]): boolean => marks.some((m) => namesPath(s, m));
  return (
    sp.key.some((s) => names(s, tree)) ||
    sp.systemDirs.some((d) => names(d, tree)) ||
    sp.inputs.some((s) => s.startsWith("/") && names(s, uncovered))
  );
}

export interface PortabilityInput {
  readonly job: CcJob;
  readonly family: CcFamily;
  readonly cwd: string;
  /** The cwd as the compiler records it (compilerCwd): a binding names it and `cwd` (placeOf). */
  readonly logicalCwd: string;
  readonly reloc: Relocation;
  readonly mode: KeyMode;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  /** Every input as the compiler spelled it (its depfile), the source included. */
  readonly spelledInputs: readonly string[];
  /** Whether each input (source and headers) includes by an absolute or computed name. */
  readonly inputs: readonly { readonly absoluteIncludes: boolean }[];
  /** The compile preprocessed (`-E -P`): started with the compile when its arguments name the tree. */
  readonly preprocess: () => Promise<{ readonly exitCode: number; readonly stdout: Buffer }>;
  /** The bytes of every output to be stored. */
  readonly outputBytes: readonly Buffer[];
  /** The user's depfile as the compiler wrote it, or null when there is none. */
  readonly depfileText: string | null;
  /** How the user's depfile names the output when no -MT/-MQ is given (the -o spelling). */
  readonly outputSpelled: string;
  /** placeHeld: an absolute path in this tree is in the key as written. */
  readonly placeHeld: boolean;
}

export interface Portability {
  /** Null: the entry serves any tree; else the binding digest it must match. */
  readonly binding: string | null;
  /**
   * stdout and stderr to store when they name inputs by their path under a base dir: those
   * paths as placeholders (renderStdio puts the current tree's back). Null: store as run.
   */
  readonly stdio: { readonly stdout: Buffer; readonly stderr: Buffer } | null;
  /** The user's depfile as a template, when it is rendered on a hit (not stored as a blob). */
  readonly depfile: DepfileTemplate | null;
  /** Why the entry is bound (for the log). */
  readonly why: string | null;
}

export async function portability(p: PortabilityInput): Promise<Portability> {
  const bound = (why: string): Portability => ({ binding: bindingOf(p.cwd, p.logicalCwd, p.job.args), depfile: null, stdio: null, why });
  let depfile: DepfileTemplate | null = null;
  if (p.depfileText !== null && !p.mode.namesBound) {
    const style = p.family === "gcc" ? "gcc" : "clang";
    const bases = p.mode.locationBound ? [] : p.reloc.baseDirs;
    depfile = depfileTemplate(p.depfileText, style, depfileTargets(p.job.args, p.outputSpelled), p.cwd, bases);
    if (depfile === null) return bound("depfile layout not reproduced");
  }
  if (p.mode.locationBound) return { binding: null, depfile, stdio: null, why: null };
  // Bound to this directory, where every name the compile spelled is the same again.
  if (p.placeHeld) return { binding: placeBindingOf(p.cwd, p.logicalCwd), depfile, stdio: null, why: "an absolute path in this tree is in the key" };
  const markers = locationMarkers(p.cwd, p.reloc, p.logicalCwd);
  if (depfile !== null && depfile.deps.some((d) => !d.startsWith(BASE_RELATIVE) && markers.some((m) => d.includes(m)))) {
    return bound("depfile names this tree");
  }
  let stdio: Portability["stdio"] = null;
  if (mentionsLocation(p.stdout, markers) || mentionsLocation(p.stderr, markers)) {
    // Diagnostics name inputs as the compiler spelled them: under a base dir, those names
    // are templated; anything else naming this tree (the cwd, a path we did not spell) binds.
    const stdout = stdioTemplate(p.stdout, p.spelledInputs, p.cwd, p.reloc.baseDirs);
    const stderr = stdioTemplate(p.stderr, p.spelledInputs, p.cwd, p.reloc.baseDirs);
    if (stdout === null || stderr === null || mentionsLocation(stdout, markers) || mentionsLocation(stderr, markers)) {
      return bound("diagnostics name this tree");
    }
    stdio = { stdout, stderr };
  }
  if (p.inputs.some((f) => f.absoluteIncludes)) return bound("an input includes by absolute or computed name");
  if (p.outputBytes.some((b) => mentionsLocation(b, markers))) return bound("an output names this tree");
  // __FILE__ and __builtin_FILE give an input's name as the compiler spelled it: when no
  // spelling names this tree (all relative, or outside it), they cannot either.
  const spelledHere = p.spelledInputs.some((s) => markers.some((m) => s.includes(m)));
  if (!spelledHere) return { binding: null, depfile, stdio, why: null };
  // Otherwise the preprocessed text says whether a name reaches the code (assert does,
  // assert under NDEBUG does not), however it was written (an argument, token pasting), and
  // whether the compiler proper is asked for one (__builtin_FILE, source_location).
  const pre = await p.preprocess();
  if (pre.exitCode !== 0 || mentionsLocation(pre.stdout, markers)) return bound("__FILE__ names this tree");
  if (pre.stdout.includes("__builtin_FILE") || pre.stdout.includes("__builtin_source_location")) {
    return bound("__builtin_FILE or source_location");
  }
  return { binding: null, depfile, stdio, why: null };
}

/** Opens and closes a placeholder for a base-relative path in stored stdout/stderr. */
const OPEN = "\u0000zccache-path:";
const CLOSE = "\u0000";

/** `text` with every spelled input path under a base dir replaced by a placeholder; null if it has NULs. */
function stdioTemplate(text: Buffer, spelled: readonly string[], cwd: string, baseDirs: readonly string[]): Buffer | null {
  if (text.length === 0) return text;
  if (text.includes(0)) return null;
  let s = text.toString("latin1");
  const paths = [...new Set(spelled)].filter((p) => relativeToCwd(p, cwd, baseDirs) !== null).sort((a, b) => b.length - a.length);
  for (const p of paths) {
    const rel = relativeToCwd(p, cwd, baseDirs) as string;
    s = s.replaceAll(p, `${OPEN}${rel}${CLOSE}`);
  }
  return Buffer.from(s, "latin1");
}

/** Stored stdout/stderr for the tree of `cwd` (the inverse of stdioTemplate). */
export function renderStdio(stored: Buffer, cwd: string): Buffer {
  if (!stored.includes(0)) return stored;
  const s = stored.toString("latin1");
  let out = "";
  let i = 0;
  for (;;) {
    const open = s.indexOf(OPEN, i);
    if (open < 0) break;
    const close = s.indexOf(CLOSE, open + OPEN.length);
    if (close < 0) break;
    out += s.slice(i, open) + fromCwd(s.slice(open + OPEN.length, close), cwd);
    i = close + CLOSE.length;
  }
  return Buffer.from(out + s.slice(i), "latin1");
}
