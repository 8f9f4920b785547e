import { describe, expect, test } from "bun:test";
import {
  binaryReplyFor,
  decodeCompileReply,
  decodeCompileRequest,
  encodeCompileReply,
  encodeCompileRequest,
} from "./compile-binary.ts";
import { type CompileRequest, decodeRequest } from "./messages.ts";

const request: CompileRequest = {
  type: "compile",
  clientVersion: "0.1.0",
  compiler: "gcc",
  args: ["-c", "a b.c", "", "\u00e9\u{1F600}", "\uFEFFbom"],
  cwd: "/work/dir",
  env: { PATH: "/usr/bin:/bin", EMPTY: "", EQ: "a=b=", __proto__x: "y" },
  clientPid: 4242,
  selfExe: undefined,
  sessionId: undefined,
};

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

function cat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

function str(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  return cat(u32(b.length), b);
}

describe("binary compile request (kind 1)", () => {
  test("round-trips to the very object the JSON path decodes", () => {
    const viaJson = decodeRequest(JSON.parse(JSON.stringify(request)));
    const viaBinary = decodeCompileRequest(encodeCompileRequest(request));
    expect(viaJson.ok && viaBinary.ok).toBe(true);
    if (!viaJson.ok || !viaBinary.ok) return;
    expect(viaBinary.value).toEqual(viaJson.value as CompileRequest);
    expect(Object.keys(viaBinary.value)).toEqual(Object.keys(viaJson.value));
  });

  test("symlink mode and a session survive; empty strings mean absent", () => {
    const r = decodeCompileRequest(encodeCompileRequest({ ...request, selfExe: "/opt/zccache", sessionId: "s1" }));
    expect(r.ok && r.value.selfExe === "/opt/zccache" && r.value.sessionId === "s1").toBe(true);
    const plain = decodeCompileRequest(encodeCompileRequest(request));
    expect(plain.ok && plain.value.selfExe === undefined && plain.value.sessionId === undefined).toBe(true);
  });

  test("an environment entry named __proto__ stays data, the first duplicate wins", () => {
    const payload = cat(str("0.1.0"), str("cc"), str("/"), str(""), str(""), u32(1), u32(0), u32(3), str("__proto__=evil"), str("A=1"), str("A=2"));
    const r = decodeCompileRequest(payload);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Object.getPrototypeOf(r.value.env)).toBe(Object.prototype);
    expect(Object.entries(r.value.env)).toEqual([["__proto__", "evil"], ["A", "1"]]);
  });

  test("every truncation of a valid payload is a typed error, never a throw", () => {
    const full = encodeCompileRequest(request);
    for (let n = 0; n < full.length; n++) {
      const r = decodeCompileRequest(full.subarray(0, n));
      expect(r.ok).toBe(false);
    }
  });

  test("lengths past the end, huge counts, trailing bytes and semantic errors are refused", () => {
    const head = cat(str("0.1.0"), str("cc"), str("/"), str(""), str(""), u32(1));
    const cases: [Uint8Array, string][] = [
      [cat(u32(0xffffffff), new Uint8Array(8)), "truncated"],
      [cat(head, u32(0xffffffff)), "too-many"],
      [cat(head, u32(0), u32(0x40000000), str("A=1")), "too-many"],
      [cat(head, u32(1), cat(u32(100), new Uint8Array(3)), u32(0)), "truncated"],
      [cat(head, u32(0), u32(1), str("NOEQUALS")), "bad-env-entry"],
      [cat(head, u32(0), u32(0), new Uint8Array(1)), "trailing-bytes"],
      [cat(str("0.1.0"), str(""), str("/"), str(""), str(""), u32(1), u32(0), u32(0)), "invalid-request"],
      [cat(str("0.1.0"), str("cc"), str("relative"), str(""), str(""), u32(1), u32(0), u32(0)), "invalid-request"],
    ];
    for (const [payload, code] of cases) {
      const r = decodeCompileRequest(payload);
      expect(r.ok ? "ok" : r.error.code).toBe(code);
    }
  });
});

describe("binary compile reply (kind 2)", () => {
  const stdout = Uint8Array.from([0, 255, 10, 0xef, 0xbb, 0xbf]);
  const stderr = new TextEncoder().encode("warning\n");

  test("results and run-local round-trip byte for byte", () => {
    for (const reply of [
      { type: "compile-result", exitCode: 1, stdout, stderr },
      { type: "compile-result", exitCode: -7, stdout: new Uint8Array(0), stderr: new Uint8Array(0) },
      { type: "run-local", compilerPath: "/usr/bin/gcc" },
      { type: "run-local", compilerPath: "" },
    ] as const) {
      const r = decodeCompileReply(encodeCompileReply(reply));
      expect(r.ok && r.value).toEqual(reply);
    }
  });

  test("malformed replies are typed errors", () => {
    const good = encodeCompileReply({ type: "compile-result", exitCode: 0, stdout, stderr });
    for (let n = 0; n < good.length; n++) expect(decodeCompileReply(good.subarray(0, n)).ok).toBe(false);
    const codeOf = (p: Uint8Array): string => {
      const r = decodeCompileReply(p);
      return r.ok ? "ok" : r.error.code;
    };
    expect(codeOf(Uint8Array.of(9))).toBe("bad-tag");
    expect(codeOf(cat(good, Uint8Array.of(0)))).toBe("trailing-bytes");
    expect(codeOf(cat(Uint8Array.of(0), u32(0), u32(0xfffffff0)))).toBe("truncated");
    expect(codeOf(cat(Uint8Array.of(1), u32(5), new TextEncoder().encode("/b")))).toBe("truncated");
  });

  test("only results and run-local travel as kind 2", () => {
    const result = binaryReplyFor({ type: "compile-result", exitCode: 3, stdout: Buffer.from(stdout).toString("base64"), stderr: "", outcome: "hit" });
    expect(result).toEqual({ type: "compile-result", exitCode: 3, stdout: Buffer.from(stdout), stderr: Buffer.alloc(0) });
    expect(binaryReplyFor({ type: "run-local", reason: "x", compilerPath: "/bin/cc" })).toEqual({ type: "run-local", compilerPath: "/bin/cc" });
    expect(binaryReplyFor({ type: "run-local", reason: "x" })).toEqual({ type: "run-local", compilerPath: "" });
    expect(binaryReplyFor({ type: "run-local", reason: "bad-env", message: "ZCCACHE_X is bad" })).toBeNull();
    expect(binaryReplyFor({ type: "error", code: "daemon-outdated", message: "m" })).toBeNull();
  });
});
