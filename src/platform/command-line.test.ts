import { expect, test } from "bun:test";
import { splitCommandLine } from "./command-line.ts";

test("words as a shell splits a simple command, without expansions", () => {
  const cases: [string, string[]][] = [
    ["", []],
    ["  sh   deploy.sh  ", ["sh", "deploy.sh"]],
    ["sh '/a dir/deploy.sh' \"two words\"", ["sh", "/a dir/deploy.sh", "two words"]],
    ["cp a\\ b dest", ["cp", "a b", "dest"]],
    ['echo "say \\"hi\\" \\\\ \\$HOME \\n"', ["echo", 'say "hi" \\ $HOME \\n']],
    ["echo 'it''s'", ["echo", "its"]],
    ["echo ''", ["echo", ""]],
    ['x"y"\'z\'', ["xyz"]],
    ["echo $HOME *.so ~", ["echo", "$HOME", "*.so", "~"]],
  ];
  for (const [text, words] of cases) expect({ text, r: splitCommandLine(text) }).toEqual({ text, r: { ok: true, value: words } });
});

test("an unterminated quote or a trailing backslash is refused, naming which", () => {
  expect(splitCommandLine("sh 'deploy.sh")).toEqual({ ok: false, error: "unterminated ' quote" });
  expect(splitCommandLine('sh "deploy.sh')).toEqual({ ok: false, error: 'unterminated " quote' });
  expect(splitCommandLine("sh deploy.sh\\")).toEqual({ ok: false, error: "a trailing backslash" });
});
