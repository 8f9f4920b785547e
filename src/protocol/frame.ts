// Length-prefixed frames. The 12-byte header never changes across protocol versions, so a
// peer of another version can always be read far enough to tell it so:
//   u32 magic | u16 protocol version | u16 kind | u32 payload length   (little-endian)
export const FRAME_MAGIC = 0x4643435a; // "ZCCF" read as little-endian u32
/** The protocol this build implements (the C launcher mirrors it in launcher.h). */
export const PROTOCOL_VERSION = 2;
export const FRAME_HEADER_BYTES = 12;
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** Every existing request and response: a UTF-8 JSON payload. */
export const FRAME_KIND_JSON = 0;
/** Binary compile request, sent only by the C launcher (see compile-binary.ts). */
export const FRAME_KIND_COMPILE_REQUEST = 1;
/** Binary compile reply, the answer to kind 1 only. */
export const FRAME_KIND_COMPILE_REPLY = 2;
/** Empty "still working" frame the daemon sends about every second; resets the client's deadline. */
export const FRAME_KIND_PROGRESS = 3;

export type FrameKind =
  | typeof FRAME_KIND_JSON
  | typeof FRAME_KIND_COMPILE_REQUEST
  | typeof FRAME_KIND_COMPILE_REPLY
  | typeof FRAME_KIND_PROGRESS;

function spokenProtocolVersion(): number {
  // Test-only: lets a suite stand up an "older" or "newer" daemon or client. Read once.
  const raw = process.env.ZCCACHE_TEST_PROTOCOL_VERSION;
  if (raw !== undefined && /^\d{1,5}$/.test(raw) && Number(raw) <= 0xffff) return Number(raw);
  return PROTOCOL_VERSION;
}

/** The version this process writes and expects: PROTOCOL_VERSION unless a test overrides it. */
export const SPOKEN_PROTOCOL_VERSION: number = spokenProtocolVersion();

/** A frame of our own version. `json` is decoded for kind 0 only; other kinds carry raw bytes. */
export type Frame =
  | { readonly kind: typeof FRAME_KIND_JSON; readonly payload: Uint8Array; readonly json: unknown }
  | {
      readonly kind: typeof FRAME_KIND_COMPILE_REQUEST | typeof FRAME_KIND_COMPILE_REPLY | typeof FRAME_KIND_PROGRESS;
      readonly payload: Uint8Array;
    };

export type FrameError =
  | { readonly code: "bad-magic"; readonly message: string }
  /**
   * A whole frame of another protocol version. The peer is older or newer than us; `json` is
   * its payload when it is kind 0 and parses (e.g. an old daemon's error naming its pid), else null.
   */
  | { readonly code: "bad-version"; readonly message: string; readonly version: number; readonly json: unknown }
  | { readonly code: "too-large"; readonly message: string }
  | { readonly code: "bad-kind"; readonly message: string }
  | { readonly code: "bad-json"; readonly message: string };

export interface Decoded {
  readonly frames: Frame[];
  readonly error: FrameError | null;
}

function header(kind: number, length: number, version: number): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + length);
  const view = new DataView(out.buffer);
  view.setUint32(0, FRAME_MAGIC, true);
  view.setUint16(4, version, true);
  view.setUint16(6, kind, true);
  view.setUint32(8, length, true);
  return out;
}

/** A frame of any kind around raw payload bytes. */
export function encodeRawFrame(kind: FrameKind, payload: Uint8Array, version: number = SPOKEN_PROTOCOL_VERSION): Uint8Array {
  const out = header(kind, payload.length, version);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** A kind-0 JSON frame; `version` is ours unless answering an older peer in its own. */
export function encodeFrame(payload: unknown, version: number = SPOKEN_PROTOCOL_VERSION): Uint8Array {
  return encodeRawFrame(FRAME_KIND_JSON, Buffer.from(JSON.stringify(payload), "utf8"), version);
}

/** The empty progress frame (kind 3). */
export function encodeProgressFrame(): Uint8Array {
  return header(FRAME_KIND_PROGRESS, 0, SPOKEN_PROTOCOL_VERSION);
}

function parseJson(body: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(Buffer.from(body).toString("utf8")) };
  } catch {
    return { ok: false };
  }
}

/**
 * Accumulates bytes from a stream and yields whole frames with their kind and payload.
 * After the first error (including a frame of another version) it stays failed: the peer is
 * out of sync or speaks another protocol, and the connection must close.
 */
export class FrameDecoder {
  private buf: Uint8Array = new Uint8Array(0);
  private failed: FrameError | null = null;

  push(chunk: Uint8Array): Decoded {
    if (this.failed) return { frames: [], error: this.failed };
    if (this.buf.length === 0) {
      this.buf = chunk.slice();
    } else {
      const merged = new Uint8Array(this.buf.length + chunk.length);
      merged.set(this.buf, 0);
      merged.set(chunk, this.buf.length);
      this.buf = merged;
    }
    const frames: Frame[] = [];
    while (this.buf.length >= FRAME_HEADER_BYTES) {
      const view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
      if (view.getUint32(0, true) !== FRAME_MAGIC) return this.fail({ code: "bad-magic", message: "not a zccache frame" }, frames);
      const version = view.getUint16(4, true);
      const kind = view.getUint16(6, true);
      const length = view.getUint32(8, true);
      if (length > MAX_FRAME_BYTES) {
        if (version !== SPOKEN_PROTOCOL_VERSION) return this.fail(otherVersion(version, null), frames);
        return this.fail({ code: "too-large", message: `frame of ${length} bytes exceeds ${MAX_FRAME_BYTES}` }, frames);
      }
      if (this.buf.length < FRAME_HEADER_BYTES + length) break;
      const payload = this.buf.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length);
      this.buf = this.buf.subarray(FRAME_HEADER_BYTES + length);
      if (version !== SPOKEN_PROTOCOL_VERSION) {
        const parsed = kind === FRAME_KIND_JSON ? parseJson(payload) : { ok: false as const };
        return this.fail(otherVersion(version, parsed.ok ? parsed.value : null), frames);
      }
      switch (kind) {
        case FRAME_KIND_JSON: {
          const parsed = parseJson(payload);
          if (!parsed.ok) return this.fail({ code: "bad-json", message: "frame payload is not JSON" }, frames);
          frames.push({ kind, payload, json: parsed.value });
          break;
        }
        case FRAME_KIND_COMPILE_REQUEST:
        case FRAME_KIND_COMPILE_REPLY:
        case FRAME_KIND_PROGRESS:
          frames.push({ kind, payload });
          break;
        default:
          return this.fail({ code: "bad-kind", message: `unknown frame kind ${kind}` }, frames);
      }
    }
    // Whole frames hold views into the buffer; keep only the unread tail.
    if (frames.length > 0) this.buf = this.buf.slice();
    return { frames, error: null };
  }

  /** Bytes received that do not yet form a whole frame. */
  get pendingBytes(): number {
    return this.buf.length;
  }

  private fail(error: FrameError, frames: Frame[]): Decoded {
    this.failed = error;
    this.buf = new Uint8Array(0);
    return { frames, error };
  }
}

function otherVersion(version: number, json: unknown): FrameError {
  return {
    code: "bad-version",
    message: `protocol version ${version} is not ${SPOKEN_PROTOCOL_VERSION}`,
    version,
    json,
  };
}
