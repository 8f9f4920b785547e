import { expect, test } from "bun:test";
import { configOptionsAcceptable, configTextAcceptable, configWords, parseConfigDirs } from "./driver-config.ts";

test("the configuration directories are read from clang -v", () => {
  const verbose = [
    "clang version 19.1.6",
    "Target: x86_64-apple-darwin24.2.0",
    "InstalledDir: /usr/local/Cellar/llvm/19.1.6/bin",
    "Configuration file: /usr/local/etc/clang/x86_64-apple-darwin24.cfg",
    "System configuration file directory: /usr/local/etc/clang",
    "User configuration file directory: /home/u/.config/clang",
  ].join("\n");
  expect(parseConfigDirs(verbose)).toEqual(["/usr/local/etc/clang", "/home/u/.config/clang"]);
  expect(parseConfigDirs("Debian clang version 14.0.6\nInstalledDir: /usr/bin\n")).toEqual([]);
});

test("a configuration file of defines, optimisation, warnings, standards, targets and fixed code switches is accepted", () => {
  expect(configTextAcceptable("")).toBe(true);
  expect(configTextAcceptable("# defaults\n\n-DFOO=1 -O2 -UBAR\n  -fstack-protector-strong\n--target=aarch64-linux-gnu\n-Wall -Werror=format\n")).toBe(true);
  expect(configTextAcceptable("-D NAME=1\n-target x86_64-linux-gnu\n-std=gnu17 -fPIC -fno-plt -mno-red-zone -march=x86-64-v2\n")).toBe(true);
  expect(configTextAcceptable("--sysroot=/opt/sr\n-isysroot /opt/sdk\n-include /usr/include/x.h\n--rtlib=compiler-rt --unwindlib=libunwind -stdlib=libc++\n")).toBe(true);
});

test("anything our command-line model reads, or that reads or writes more files, is refused", () => {
  for (const text of [
    "-I/opt/inc",
    "-isystem /opt/inc",
    "-iquote inc",
    "-idirafter /x",
    "-include force.h",
    "-imacros /m.h",
    "--sysroot=sysroot",
    "-isysroot sdk",
    "--gcc-toolchain=../gcc",
    "-include-pch /x/h.pch",
    "-o out.o",
    "-MD",
    "-MMD -MF x.d",
    "-E",
    "-c",
    "-S",
    "-x c++",
    "-xc++",
    "-ObjC",
    "-save-temps",
    "-fstack-usage",
    "-g",
    "-gsplit-dwarf",
    "--coverage",
    "-fprofile-instr-generate -fcoverage-mapping",
    "-ffile-prefix-map=/a=/b",
    "-frecord-command-line",
    "-fno-integrated-as",
    "-fuse-ld=lld",
    "-L/opt/lib",
    "-lfoo",
    "-Wl,-z,relro",
    "-Wp,-include,fi.h",
    "-Xclang -include -Xclang fi.h",
    "-mllvm -x",
    "-march=native",
    "-mtune=native",
    "-march=native+crc",
    "-fcolor-diagnostics",
    "-fmessage-length=0",
    "-fsanitize=address",
    "-fplugin=/x.so",
    "-target",
    "@other.cfg",
    '-DNAME="quoted"',
    "-Dx=\\y",
    "-Dx=$HOME",
    '--param "" --param -I/evil',
    "extra.c",
    "--no-such-option-anywhere",
  ]) {
    expect([text, configTextAcceptable(text)]).toEqual([text, false]);
  }
});

test("quoted words, and nested files as references", () => {
  expect(configWords('# Gentoo\n@gentoo-common.cfg\n"-include" "/usr/include/gentoo/maybe-stddefs.h"\n')).toEqual([
    "@gentoo-common.cfg",
    "-include",
    "/usr/include/gentoo/maybe-stddefs.h",
  ]);
  expect(configWords('""\n')).toBeNull();
  expect(configWords("-DX=\\1\n")).toBeNull();
  expect(configOptionsAcceptable(["-include", "/usr/include/gentoo/maybe-stddefs.h", "-O2"])).toBe(true);
  // A nested file on its own is not read by configTextAcceptable.
  expect(configTextAcceptable("@other.cfg\n")).toBe(false);
});
