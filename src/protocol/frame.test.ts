import { describe, expect, test } from "bun:test";
import { encodeFrame, FRAME_HEADER_BYTES, FrameDecoder, MAX_FRAME_BYTES } from "./frame.ts";

function header(magic: number, version: number, length: number): Uint8Array {
  const b = new Uint8Array(FRAME_HEADER_BYTES);
  const v = new DataView(b.buffer);
  v.setUint32(0, magic, true);
  v.setUint16(4, version, true);
  v.setUint32(8, length, true);
  return b;
}

describe("frames", () => {
  test("round-trips a payload delivered one byte at a time", () => {
    const frame = encodeFrame({ type: "ping", n: [1, 2, 3], s: "é✓" });
    const d = new FrameDecoder();
    const got: unknown[] = [];
    for (const byte of frame) got.push(...d.push(new Uint8Array([byte])).frames);
    expect(got).toEqual([{ type: "ping", n: [1, 2, 3], s: "é✓" }]);
    expect(d.pendingBytes).toBe(0);
  });

  test("two frames in one chunk", () => {
    const a = encodeFrame({ a: 1 });
    const b = encodeFrame({ b: 2 });
    const both = new Uint8Array(a.length + b.length);
    both.set(a);
    both.set(b, a.length);
    expect(new FrameDecoder().push(both).frames).toEqual([{ a: 1 }, { b: 2 }]);
  });

  test("rejects bad magic, version, size and JSON, and stays failed", () => {
    expect(new FrameDecoder().push(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n")).error?.code).toBe("bad-magic");
    expect(new FrameDecoder().push(header(0x4643435a, 99, 2)).error?.code).toBe("bad-version");
    expect(new FrameDecoder().push(header(0x4643435a, 1, MAX_FRAME_BYTES + 1)).error?.code).toBe("too-large");
    const bad = new Uint8Array(FRAME_HEADER_BYTES + 3);
    bad.set(header(0x4643435a, 1, 3));
    bad.set(new TextEncoder().encode("{x]"), FRAME_HEADER_BYTES);
    const d = new FrameDecoder();
    expect(d.push(bad).error?.code).toBe("bad-json");
    expect(d.push(encodeFrame({ ok: true })).error?.code).toBe("bad-json");
  });

  test("a truncated frame yields nothing yet", () => {
    const frame = encodeFrame({ type: "status" });
    const r = new FrameDecoder().push(frame.subarray(0, frame.length - 1));
    expect(r.frames).toEqual([]);
    expect(r.error).toBeNull();
  });
});
