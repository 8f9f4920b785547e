// Length-prefixed frames: magic, protocol version, payload length, JSON payload.
export const FRAME_MAGIC = 0x4643435a; // "ZCCF" read as little-endian u32
export const PROTOCOL_VERSION = 1;
export const FRAME_HEADER_BYTES = 12;
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export type FrameError =
  | { readonly code: "bad-magic"; readonly message: string }
  | { readonly code: "bad-version"; readonly message: string }
  | { readonly code: "too-large"; readonly message: string }
  | { readonly code: "bad-json"; readonly message: string };

export function encodeFrame(payload: unknown): Uint8Array {
  const body = Buffer.from(JSON.stringify(payload), "utf8");
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, FRAME_MAGIC, true);
  view.setUint16(4, PROTOCOL_VERSION, true);
  view.setUint16(6, 0, true);
  view.setUint32(8, body.length, true);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

/**
 * Accumulates bytes from a stream and yields whole frames. After the first
 * error it stays failed: the peer is out of sync and the connection must close.
 */
export class FrameDecoder {
  private buf: Uint8Array = new Uint8Array(0);
  private failed: FrameError | null = null;

  push(chunk: Uint8Array): { frames: unknown[]; error: FrameError | null } {
    if (this.failed) return { frames: [], error: this.failed };
    const merged = new Uint8Array(this.buf.length + chunk.length);
    merged.set(this.buf, 0);
    merged.set(chunk, this.buf.length);
    this.buf = merged;
    const frames: unknown[] = [];
    while (this.buf.length >= FRAME_HEADER_BYTES) {
      const view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
      const magic = view.getUint32(0, true);
      if (magic !== FRAME_MAGIC) return this.fail({ code: "bad-magic", message: "not a zccache frame" }, frames);
      const version = view.getUint16(4, true);
      if (version !== PROTOCOL_VERSION) {
        return this.fail(
          { code: "bad-version", message: `protocol version ${version} is not ${PROTOCOL_VERSION}` },
          frames,
        );
      }
      const length = view.getUint32(8, true);
      if (length > MAX_FRAME_BYTES) {
        return this.fail({ code: "too-large", message: `frame of ${length} bytes exceeds ${MAX_FRAME_BYTES}` }, frames);
      }
      if (this.buf.length < FRAME_HEADER_BYTES + length) break;
      const body = this.buf.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length);
      this.buf = this.buf.slice(FRAME_HEADER_BYTES + length);
      try {
        frames.push(JSON.parse(Buffer.from(body).toString("utf8")));
      } catch {
        return this.fail({ code: "bad-json", message: "frame payload is not JSON" }, frames);
      }
    }
    return { frames, error: null };
  }

  /** Bytes received that do not yet form a whole frame. */
  get pendingBytes(): number {
    return this.buf.length;
  }

  private fail(error: FrameError, frames: unknown[]): { frames: unknown[]; error: FrameError } {
    this.failed = error;
    this.buf = new Uint8Array(0);
    return { frames, error };
  }
}
