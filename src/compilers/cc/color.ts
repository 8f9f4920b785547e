// What the compiler itself would decide about colour and hyperlinks when the caller's stderr
// is a terminal. The daemon runs the compiler on a pipe, so it must ask for exactly the
// escapes the compiler would have chosen on its own, and key on that decision.
// Observed with gcc 12 and clang 14 on a pseudo-terminal (neither reads NO_COLOR/CLICOLOR):
// gcc colours when TERM is set and not "dumb"; an empty GCC_COLORS turns colour off (it is
// in the environment we pass on, so it needs nothing here). gcc adds URL escapes under the
// same condition unless COLORTERM is xfce4-terminal, or TERM is xterm or linux without
// COLORTERM; GCC_URLS/TERM_URLS decide instead when set. clang colours when the terminfo
// entry for TERM has colours.
import * as fs from "node:fs";
import * as path from "node:path";
import type { CcFamily } from "../family.ts";

/**
 * "pipe": what a pipe gets. "tty": colour forced on. "tty-urls": colour and URL escapes.
 * "urls": URL escapes only (the user chose the colour).
 */
export type ColorMode = "pipe" | "tty" | "tty-urls" | "urls";

type Env = Readonly<Record<string, string | undefined>>;

/** What a compile run on a pipe needs to print what it would print on the caller's terminal. */
export interface Terminal {
  readonly colorMode: ColorMode;
  /** clang's driver passes -fmessage-length=COLUMNS when stderr is a terminal. */
  readonly messageLength: number | null;
  /** gcc on a terminal: the width it cuts quoted source lines to; null: not cut. */
  readonly caretColumns: number | null;
}

// Escape sequences (colour, hyperlinks) take no columns.
const ESC = String.fromCharCode(27);
const BEL = String.fromCharCode(7);
const ESCAPES = new RegExp(`${ESC}\\[[0-9;]*[A-Za-z]|${ESC}\\][^${BEL}${ESC}]*(${BEL}|${ESC}\\\\)`, "g");
/** Room for gcc's margin and rounding: lines this much narrower than the terminal are never cut. */
const CARET_SLACK_COLUMNS = 16;

/**
 * Whether gcc, printing `stderr` on a terminal `columns` wide, might have cut a line. Only
 * quoted source and the caret lines under it are cut, and those start with a space (the
 * line-number margin); messages are never wrapped unless -fmessage-length says so, which a
 * pipe honours too. Bytes bound display columns from above (a wide character takes 3 bytes, 2 columns).
 */
export function mayCutLines(stderr: Buffer, columns: number | null): boolean {
  if (columns === null || stderr.length === 0) return false;
  const limit = columns - CARET_SLACK_COLUMNS;
  return stderr
    .toString("latin1")
    .split("\n")
    .some((raw) => {
      const line = raw.replace(ESCAPES, "");
      return line.startsWith(" ") && line.length > limit;
    });
}

export function clangMessageLength(family: CcFamily, modelArgs: readonly string[], env: Env, stderrIsTty: boolean): number | null {
  if (family === "gcc" || !stderrIsTty || modelArgs.some((a) => a.startsWith("-fmessage-length"))) return null;
  const n = Number.parseInt(env.COLUMNS ?? "", 10);
  return Number.isInteger(n) && n > 0 ? n : null;
}

export function colorModeFor(
  family: CcFamily,
  modelArgs: readonly string[],
  explicitColor: boolean,
  env: Env,
  stderrIsTty: boolean,
): ColorMode {
  if (!stderrIsTty) return "pipe";
  const term = env.TERM;
  if (family !== "gcc") return !explicitColor && terminalHasColors(term, env) ? "tty" : "pipe";
  const colorizes = term !== undefined && term !== "dumb";
  const explicitUrls = modelArgs.some((a) => a.startsWith("-fdiagnostics-urls"));
  const urls = colorizes && !explicitUrls && env.GCC_URLS === undefined && env.TERM_URLS === undefined && gccAutoUrls(env);
  if (explicitColor || !colorizes) return urls ? "urls" : "pipe";
  return urls ? "tty-urls" : "tty";
}

/**
 * gcc writes its switches into the debug info (DW_AT_producer), -fdiagnostics-urls among
 * them (-fdiagnostics-color is left out): a compile with debug info cannot be asked for
 * URLs without changing its object. Conservative: any -g but a lone -g0 counts.
 */
export function recordsSwitches(modelArgs: readonly string[]): boolean {
  let debug = false;
  let record = true;
  for (const a of modelArgs) {
    if (a === "-grecord-gcc-switches") record = true;
    else if (a === "-gno-record-gcc-switches") record = false;
    else if (a.startsWith("-g") && a !== "-g0") debug = true;
  }
  return debug && record;
}

function gccAutoUrls(env: Env): boolean {
  const colorterm = env.COLORTERM;
  if (colorterm === "xfce4-terminal") return false;
  if ((env.TERM === "xterm" || env.TERM === "linux") && colorterm === undefined) return false;
  return true;
}

/** The arguments that make a compile on a pipe print what it would print on the terminal. */
export function colorArgs(mode: ColorMode): string[] {
  switch (mode) {
    case "pipe":
      return [];
    case "tty":
      return ["-fdiagnostics-color=always"];
    case "tty-urls":
      return ["-fdiagnostics-color=always", "-fdiagnostics-urls=always"];
    case "urls":
      return ["-fdiagnostics-urls=always"];
  }
}

/** Where ncurses looks for a terminal description, in its order. */
function terminfoDirs(env: Env): string[] {
  const dirs: string[] = [];
  if (env.TERMINFO) dirs.push(env.TERMINFO);
  if (env.HOME) dirs.push(path.join(env.HOME, ".terminfo"));
  const defaults = ["/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo"];
  if (env.TERMINFO_DIRS !== undefined) {
    for (const d of env.TERMINFO_DIRS.split(":")) dirs.push(...(d === "" ? defaults : [d]));
  } else dirs.push(...defaults);
  return dirs;
}

const COLORS_INDEX = 13;

/** LLVM's test: a terminfo entry for TERM whose `colors` capability is positive. */
export function terminalHasColors(term: string | undefined, env: Env): boolean {
  if (term === undefined || term === "" || term.includes("/")) return false;
  for (const dir of terminfoDirs(env)) {
    for (const sub of [term[0] as string, (term.charCodeAt(0) & 0xff).toString(16)]) {
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(path.join(dir, sub, term));
      } catch {
        continue;
      }
      return colorsOf(bytes) > 0;
    }
  }
  return false;
}

/** The `colors` number of a compiled terminfo entry (legacy 16-bit or extended 32-bit format). */
export function colorsOf(b: Buffer): number {
  if (b.length < 12) return -1;
  const magic = b.readUInt16LE(0);
  const wide = magic === 0o1036;
  if (magic !== 0o432 && !wide) return -1;
  const namesSize = b.readUInt16LE(2);
  const boolCount = b.readUInt16LE(4);
  const numCount = b.readUInt16LE(6);
  if (numCount <= COLORS_INDEX) return -1;
  let off = 12 + namesSize + boolCount;
  if (off % 2 === 1) off++;
  const width = wide ? 4 : 2;
  const at = off + COLORS_INDEX * width;
  if (at + width > b.length) return -1;
  return wide ? b.readInt32LE(at) : b.readInt16LE(at);
}
