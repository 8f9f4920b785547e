// Options that reach a sub-tool unseen by the driver: `-Wp,a,b` and `-Xpreprocessor a` (the
// preprocessor), `-Xclang a` (clang's cc1), `-Wa,a,b` and `-Xassembler a` (the assembler).
// Their words are read with the same option table as the driver's own options, so
// `-Wp,-I,dir` counts as an include directory exactly like `-I dir`; what we cannot read is
// refused by the caller.

export type PassTarget = "preprocessor" | "assembler";

export interface PassThrough {
  readonly target: PassTarget;
  /** The words handed to the sub-tool, in order. */
  readonly words: readonly string[];
  /** Index of the last argument consumed. */
  readonly next: number;
}

const COMMA_FORMS: Readonly<Record<string, PassTarget>> = { "-Wp,": "preprocessor", "-Wa,": "assembler" };
const X_FORMS: Readonly<Record<string, PassTarget>> = {
  "-Xpreprocessor": "preprocessor",
  "-Xclang": "preprocessor",
  "-Xassembler": "assembler",
};

/**
 * The pass-through at args[i], or null when args[i] is not one. A run of the same `-X…`
 * spelling is one group, so `-Xclang -I -Xclang dir` reads as `-I dir`.
 */
export function readPassThrough(args: readonly string[], i: number): PassThrough | null {
  const a = args[i] as string;
  for (const [prefix, target] of Object.entries(COMMA_FORMS)) {
    if (a.startsWith(prefix)) return { target, words: a.slice(prefix.length).split(","), next: i };
  }
  const target = X_FORMS[a];
  if (target === undefined) return null;
  const words: string[] = [];
  let j = i;
  while (args[j] === a && args[j + 1] !== undefined) {
    words.push(args[j + 1] as string);
    j += 2;
  }
  // A trailing `-Xclang` without its word: leave it to the caller to refuse.
  if (words.length === 0) return { target, words: [""], next: i };
  return { target, words, next: j - 1 };
}

/**
 * Assembler options that neither read nor write a file and whose effect is in the object
 * (hashed with the arguments). Anything else (listings -a…, --MD, -I, -o, @file, …) is refused.
 */
const SAFE_ASSEMBLER = [
  /^--(no)?execstack$/,
  /^-mrelax-relocations=(yes|no)$/,
  /^--(no)?compress-debug-sections(=[a-z-]+)?$/,
  /^-g(dwarf(-[0-9])?)?$/,
  /^--gdwarf(-[0-9]|-sections)?$/,
  /^--gen-debug$/,
  /^--(32|64|x32)$/,
  /^-m(arch|tune|cpu|fpu|abi|float-abi|implicit-it|x86-used-note|sse-check|operand-check|align-branch-boundary|align-branch|branches-within-32B-boundaries)(=[A-Za-z0-9_.+-]*)?$/,
  /^-m(thumb|arm|relax|no-relax|no-shared|big-obj|sse2avx|naked-reg|shared)$/,
  /^--(fatal-warnings|warn|no-warn|keep-locals|strip-local-absolute|reduce-memory-overheads|nocompress-debug-sections)$/,
  /^-(W|L|R|Q[yn]?|K?PIC|EL|EB|O[0-9]?|n|k)$/,
];

/** Whether every assembler word is known to be harmless; otherwise the one that is not. */
export function unsafeAssemblerWord(words: readonly string[]): string | null {
  for (let k = 0; k < words.length; k++) {
    const w = words[k] as string;
    if (w === "--defsym") {
      const v = words[k + 1];
      if (v === undefined || !/^[A-Za-z_.$][A-Za-z0-9_.$]*=[A-Za-z0-9_.+-]*$/.test(v)) return w;
      k++;
      continue;
    }
    if (w.startsWith("--defsym=")) continue;
    if (!SAFE_ASSEMBLER.some((re) => re.test(w))) return w;
  }
  return null;
}
