import { describe, expect, test } from "bun:test";
import { assemblerFileReads } from "./asm-inputs.ts";

describe("assemblerFileReads", () => {
  test("plain assembly reads nothing", () => {
    expect(assemblerFileReads("\t.data\nval:\t.long 42\n\t.text\n\tret\n")).toBeNull();
  });

  test(".include and .incbin in any case are refused", () => {
    expect(assemblerFileReads('\t.include "inc.s"\n')).not.toBeNull();
    expect(assemblerFileReads('\t.incbin "blob.bin", 0, 4\n')).not.toBeNull();
    expect(assemblerFileReads('\t.INCBIN "blob.bin"\n')).not.toBeNull();
    // A macro argument that is the whole directive name.
    expect(assemblerFileReads('.macro m d\n\\d "f"\n.endm\nm .incbin\n')).not.toBeNull();
  });

  test("macros that could build a directive name are refused", () => {
    expect(assemblerFileReads('.irp x,bin\n.inc\\x "f"\n.endr\n')).not.toBeNull();
    expect(assemblerFileReads('.macro m a b\n\\a\\b "f"\n.endm\nm .inc bin\n')).not.toBeNull();
    expect(assemblerFileReads('.macro m a\nl: \\a "f"\n.endm\n')).not.toBeNull();
    expect(assemblerFileReads(".altmacro\n.macro m a\n.long a\n.endm\n")).not.toBeNull();
  });

  test("macros with operand substitutions and unique labels are fine", () => {
    expect(assemblerFileReads(".macro push2 a b\n\tpush \\a\n\tpush \\b\n.L\\@:\n.endm\npush2 %rax, %rbx\n")).toBeNull();
    expect(assemblerFileReads(".rept 3\n\tnop\n.endr\n")).toBeNull();
  });
});
