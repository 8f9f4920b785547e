// Splits a command line written in a setting (ZCCACHE_LINK_DEPLOY_CMD) into words the way a
// POSIX shell splits a simple command: blanks separate words; '…' keeps everything literally;
// "…" keeps everything but \" \\ \$ \` and a backslash-newline; a backslash outside quotes
// keeps the next character. No expansion of any kind ($VAR, globs, ~) is done.
import { err, ok, type Result } from "./result.ts";

export function splitCommandLine(text: string): Result<string[], string> {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return err("unterminated ' quote");
      word += text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= text.length) return err('unterminated " quote');
        const d = text[j] as string;
        if (d === '"') break;
        if (d === "\\" && j + 1 < text.length && '"\\$`\n'.includes(text[j + 1] as string)) {
          if (text[j + 1] !== "\n") word += text[j + 1];
          j += 2;
          continue;
        }
        word += d;
        j++;
      }
      i = j;
    } else if (c === "\\") {
      if (i + 1 >= text.length) return err("a trailing backslash");
      if (text[i + 1] !== "\n") word += text[i + 1];
      i++;
    } else {
      word += c;
    }
  }
  if (inWord) words.push(word);
  return ok(words);
}
