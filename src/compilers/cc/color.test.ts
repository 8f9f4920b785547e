import { expect, test } from "bun:test";
import { clangMessageLength, colorArgs, colorModeFor, colorsOf, mayCutLines, recordsSwitches } from "./color.ts";

test("gcc: colour unless TERM is unset or dumb; URLs as gcc 12 decides them", () => {
  const gcc = (env: Record<string, string>, args: string[] = [], explicit = false): string => colorModeFor("gcc", args, explicit, env, true);
  expect(gcc({ TERM: "dumb" })).toBe("pipe");
  expect(gcc({})).toBe("pipe");
  expect(gcc({ TERM: "xterm" })).toBe("tty");
  expect(gcc({ TERM: "linux" })).toBe("tty");
  expect(gcc({ TERM: "xterm", COLORTERM: "truecolor" })).toBe("tty-urls");
  expect(gcc({ TERM: "xterm-256color" })).toBe("tty-urls");
  expect(gcc({ TERM: "screen", COLORTERM: "xfce4-terminal" })).toBe("tty");
  expect(gcc({ TERM: "screen", GCC_URLS: "no" })).toBe("tty");
  expect(gcc({ TERM: "screen" }, ["-fdiagnostics-urls=never"])).toBe("tty");
  expect(gcc({ TERM: "screen" }, [], true)).toBe("urls");
  expect(colorModeFor("gcc", [], false, { TERM: "xterm" }, false)).toBe("pipe");
  expect(colorArgs("tty-urls")).toEqual(["-fdiagnostics-color=always", "-fdiagnostics-urls=always"]);
});

test("clang: colour when the terminfo entry has colours", () => {
  const clang = (term: string | undefined): string => colorModeFor("clang", [], false, { TERM: term }, true);
  expect(clang("dumb")).toBe("pipe");
  expect(clang(undefined)).toBe("pipe");
  expect(clang("vt100")).toBe("pipe");
  expect(clang("xterm")).toBe("tty");
  expect(clang("../../etc/passwd")).toBe("pipe");
});

test("terminfo numbers: legacy and 32-bit formats", () => {
  const entry = (magic: number, width: 2 | 4, colors: number): Buffer => {
    const names = Buffer.from("x|test\0");
    const header = Buffer.alloc(12);
    header.writeUInt16LE(magic, 0);
    header.writeUInt16LE(names.length, 2);
    header.writeUInt16LE(1, 4); // one boolean: names + bools = 8 bytes, already even
    header.writeUInt16LE(14, 6);
    const nums = Buffer.alloc(14 * width, 0xff);
    if (width === 2) nums.writeInt16LE(colors, 13 * 2);
    else nums.writeInt32LE(colors, 13 * 4);
    return Buffer.concat([header, names, Buffer.from([1]), nums]);
  };
  expect(colorsOf(entry(0o432, 2, 8))).toBe(8);
  expect(colorsOf(entry(0o1036, 4, 256))).toBe(256);
  expect(colorsOf(Buffer.from("garbage"))).toBe(-1);
});

test("gcc records its switches in debug info unless told not to", () => {
  expect(recordsSwitches(["-O2"])).toBe(false);
  expect(recordsSwitches(["-g"])).toBe(true);
  expect(recordsSwitches(["-g0"])).toBe(false);
  expect(recordsSwitches(["-g", "-gno-record-gcc-switches"])).toBe(false);
});

test("terminal widths: clang's message length, gcc's cut source lines", () => {
  expect(clangMessageLength("clang", [], { COLUMNS: "80" }, true)).toBe(80);
  expect(clangMessageLength("clang", [], { COLUMNS: "80" }, false)).toBeNull();
  expect(clangMessageLength("clang", ["-fmessage-length=0"], { COLUMNS: "80" }, true)).toBeNull();
  expect(clangMessageLength("gcc", [], { COLUMNS: "80" }, true)).toBeNull();
  const line = (n: number): Buffer => Buffer.from(`\x1b[01m    1 | ${"x".repeat(n - 8)}\x1b[m\n`);
  expect(mayCutLines(Buffer.from(`a.c:1:2: warning: ${"long message ".repeat(20)}\n`), 80)).toBe(false);
  expect(mayCutLines(line(40), 80)).toBe(false);
  expect(mayCutLines(line(70), 80)).toBe(true);
  expect(mayCutLines(line(70), null)).toBe(false);
  expect(mayCutLines(Buffer.alloc(0), 10)).toBe(false);
});
