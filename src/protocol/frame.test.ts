import { describe, expect, test } from "bun:test";
import {
  encodeFrame,
  encodeProgressFrame,
  encodeRawFrame,
  FRAME_HEADER_BYTES,
  FRAME_KIND_COMPILE_REQUEST,
  FRAME_KIND_JSON,
  FRAME_KIND_PROGRESS,
  FrameDecoder,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  SPOKEN_PROTOCOL_VERSION,
} from "./frame.ts";

function header(magic: number, version: number, length: number, kind = 0): Uint8Array {
  const b = new Uint8Array(FRAME_HEADER_BYTES);
  const v = new DataView(b.buffer);
  v.setUint32(0, magic, true);
  v.setUint16(4, version, true);
  v.setUint16(6, kind, true);
  v.setUint32(8, length, true);
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const jsonOf = (f: { kind: number; json?: unknown }): unknown => f.json;

describe("frames", () => {
  test("the tests run with the real protocol version", () => {
    expect(PROTOCOL_VERSION).toBe(2);
    expect(SPOKEN_PROTOCOL_VERSION).toBe(2);
  });

  test("round-trips a payload delivered one byte at a time", () => {
    const frame = encodeFrame({ type: "ping", n: [1, 2, 3], s: "é✓" });
    expect(new DataView(frame.buffer).getUint16(4, true)).toBe(2);
    expect(new DataView(frame.buffer).getUint16(6, true)).toBe(FRAME_KIND_JSON);
    const d = new FrameDecoder();
    const got: unknown[] = [];
    for (const byte of frame) got.push(...d.push(new Uint8Array([byte])).frames.map(jsonOf));
    expect(got).toEqual([{ type: "ping", n: [1, 2, 3], s: "é✓" }]);
    expect(d.pendingBytes).toBe(0);
  });

  test("two frames in one chunk", () => {
    const both = concat(encodeFrame({ a: 1 }), encodeFrame({ b: 2 }));
    expect(new FrameDecoder().push(both).frames.map(jsonOf)).toEqual([{ a: 1 }, { b: 2 }]);
  });

  test("kinds: progress and binary frames carry raw payload bytes, JSON is decoded for kind 0 only", () => {
    const bin = new Uint8Array([0, 1, 2, 255]);
    const r = new FrameDecoder().push(concat(encodeProgressFrame(), encodeRawFrame(FRAME_KIND_COMPILE_REQUEST, bin), encodeFrame({ x: 1 })));
    expect(r.error).toBeNull();
    expect(r.frames.map((f) => f.kind)).toEqual([FRAME_KIND_PROGRESS, FRAME_KIND_COMPILE_REQUEST, FRAME_KIND_JSON]);
    expect(r.frames[0]?.payload.length).toBe(0);
    expect([...(r.frames[1]?.payload ?? [])]).toEqual([0, 1, 2, 255]);
    expect(r.frames[1] && "json" in r.frames[1]).toBe(false);
    expect(jsonOf(r.frames[2] as { kind: number })).toEqual({ x: 1 });
  });

  test("a payload survives the caller reusing its chunk buffer", () => {
    const chunk = encodeFrame({ keep: "me" });
    const r = new FrameDecoder().push(chunk);
    chunk.fill(0);
    expect(jsonOf(r.frames[0] as { kind: number })).toEqual({ keep: "me" });
  });

  test("rejects bad magic, kind, size and JSON, and stays failed", () => {
    expect(new FrameDecoder().push(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n")).error?.code).toBe("bad-magic");
    expect(new FrameDecoder().push(header(0x4643435a, 2, 0, 4)).error?.code).toBe("bad-kind");
    expect(new FrameDecoder().push(header(0x4643435a, 2, MAX_FRAME_BYTES + 1)).error?.code).toBe("too-large");
    const bad = concat(header(0x4643435a, 2, 3), new TextEncoder().encode("{x]"));
    const d = new FrameDecoder();
    expect(d.push(bad).error?.code).toBe("bad-json");
    expect(d.push(encodeFrame({ ok: true })).error?.code).toBe("bad-json");
  });

  test("a whole frame of another version reports that version and its JSON when it parses", () => {
    const old = encodeFrame({ type: "error", code: "daemon-outdated", pid: 42 }, 1);
    const d = new FrameDecoder();
    expect(d.push(old.subarray(0, old.length - 1))).toEqual({ frames: [], error: null });
    const r = d.push(old.subarray(old.length - 1));
    expect(r.error?.code).toBe("bad-version");
    if (r.error?.code !== "bad-version") throw new Error("unreachable");
    expect(r.error.version).toBe(1);
    expect(r.error.json).toEqual({ type: "error", code: "daemon-outdated", pid: 42 });
    // A newer peer's frame of an unknown kind, or an oversized one, is still "another version".
    const newer = new FrameDecoder().push(concat(header(0x4643435a, 7, 2, 9), new Uint8Array([1, 2])));
    expect(newer.error?.code === "bad-version" && newer.error.version === 7 && newer.error.json === null).toBe(true);
    const big = new FrameDecoder().push(header(0x4643435a, 3, MAX_FRAME_BYTES + 1));
    expect(big.error?.code === "bad-version" && big.error.version === 3).toBe(true);
  });

  test("a truncated frame yields nothing yet", () => {
    const frame = encodeFrame({ type: "status" });
    const r = new FrameDecoder().push(frame.subarray(0, frame.length - 1));
    expect(r.frames).toEqual([]);
    expect(r.error).toBeNull();
  });
});
