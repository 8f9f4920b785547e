import { expect, test } from "bun:test";
import { classifyArchive, deterministicByDefault } from "./archiver.ts";

function reason(args: string[]): string {
  const c = classifyArchive(args);
  return c.kind === "not-cacheable" ? c.reason : c.kind;
}

test("r and q with safe modifiers are cached", () => {
  expect(classifyArchive(["rcsD", "libx.a", "a.o", "b.o"])).toEqual({
    kind: "archive",
    archive: "libx.a",
    inputs: ["a.o", "b.o"],
    determinism: "deterministic",
  });
  expect(classifyArchive(["-rcs", "libx.a", "a.o"])).toMatchObject({ kind: "archive", determinism: "tool-default" });
  expect(classifyArchive(["qc", "libx.a", "a.o"])).toMatchObject({ kind: "archive", determinism: "tool-default" });
  expect(classifyArchive(["rcU", "libx.a", "a.o"])).toMatchObject({ kind: "archive", determinism: "non-deterministic" });
  expect(classifyArchive(["--plugin", "p.so", "rcs", "libx.a", "a.o"])).toMatchObject({ inputs: ["a.o", "p.so"] });
  expect(classifyArchive(["--format=gnu", "rcs", "libx.a", "a.o"])).toMatchObject({ kind: "archive" });
});

test("other operations and risky modifiers run as they are", () => {
  expect(reason(["t", "libx.a"])).toBe("archive-operation");
  expect(reason(["x", "libx.a"])).toBe("archive-operation");
  expect(reason(["d", "libx.a", "a.o"])).toBe("archive-operation");
  expect(reason(["s", "libx.a"])).toBe("archive-operation");
  expect(reason(["ru", "libx.a", "a.o"])).toBe("too-hard");
  expect(reason(["rcT", "libx.a", "a.o"])).toBe("too-hard");
  expect(reason(["rb", "a.o", "libx.a", "b.o"])).toBe("too-hard");
  expect(reason(["--thin", "rcs", "libx.a", "a.o"])).toBe("too-hard");
  expect(reason(["rcsZ", "libx.a"])).toBe("unknown-option");
  expect(reason(["rcs"])).toBe("no-input");
  expect(reason(["rcs", "libx.a", "--plugin", "p.so"])).toBe("too-hard");
});

test("the tool's default determinism from its --help", () => {
  expect(deterministicByDefault("  [D]          - use zero for timestamps and uids/gids (default)\n  [U] - use actual\n")).toBe(true);
  expect(deterministicByDefault("  [D]          - use zero for timestamps and uids/gids\n  [U] - use actual timestamps (default)\n")).toBe(false);
  expect(deterministicByDefault("")).toBe(false);
});
