// Files an assembler reads that the preprocessor never sees: `.include` and `.incbin` are
// the assembler's own directives, so no depfile (gcc's or clang's) names what they read.
// A compile whose preprocessed text may reach one of them is not stored.

/** Word fragments of the directives that read files (gas and clang's assembler alike). */
const FILE_DIRECTIVE = /incbin|include/i;
/** Assembler macros and loops: their bodies are re-read after substitution. */
const MACRO_DEFINITION = /\.(macro|irpc?|altmacro)\b/i;
/** A substitution inside a directive name (`.inc\x`; `\@` only ever yields digits). */
const SUBSTITUTED_DIRECTIVE = /\.[A-Za-z0-9_$]*\\(?!@)/;
/** A statement that starts with a substitution (`\d "file"`, `l: \d`). */
const SUBSTITUTED_STATEMENT = /(^|[;:])[ \t]*\\(?!@)/m;

/**
 * Why the assembler may read a file we cannot name, or null when it cannot. `text` is the
 * preprocessed source exactly as the assembler will read it. Errs towards refusing: any
 * mention of the directives' names, and any macro that could build a directive's name.
 */
export function assemblerFileReads(text: string): string | null {
  const named = FILE_DIRECTIVE.exec(text);
  if (named !== null) return `assembler text mentions ${named[0]}`;
  if (!MACRO_DEFINITION.test(text)) return null;
  if (/\.altmacro\b/i.test(text)) return "assembler .altmacro";
  if (SUBSTITUTED_DIRECTIVE.test(text) || SUBSTITUTED_STATEMENT.test(text)) return "assembler macro builds a directive name";
  return null;
}
