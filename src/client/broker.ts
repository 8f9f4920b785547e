// The broker-mediated connect lane (opt-in, as in the original zccache). With
// ZCCACHE_BROKER_CONNECT=1 the client asks the per-user running-process broker which endpoint
// serves "zccache" (its v1 Hello negotiation) and sends the request there. Any failure of the
// lane — no broker, a refusal, silence past a short deadline, a reply we cannot read, an
// endpoint that is not a socket of ours or does not answer — yields null and the caller
// connects directly as it always does: the lane may cost one failed connect or one short
// deadline, never a build. RUNNING_PROCESS_FAKE_BACKEND (test-only) names the endpoint itself,
// skipping discovery and the Hello. connect.ts decides whether the lane is asked for (with
// RUNNING_PROCESS_DISABLE=1 it never is) and loads this module only then.
import type { Endpoint } from "../protocol/endpoint.ts";
import type { Request } from "../protocol/messages.ts";
import { PRODUCT_VERSION } from "../protocol/version.ts";
import { lstatPath } from "../platform/lstat.ts";
import { type RoundTrip, roundTrip, type Writable, writeSome } from "./transport.ts";

type Env = Readonly<Record<string, string | undefined>>;

export const SERVICE_NAME = "zccache";
/** The one broker protocol we speak: the Hello offers [1, 1] and the broker must choose 1. */
export const BROKER_PROTOCOL = 1;
/** Connect, Hello and reply together; a local broker answers in well under a millisecond. */
export const DEFAULT_BROKER_DEADLINE_MS = 300;
/** The broker client's own override of that deadline, in milliseconds (running-process's name). */
export const BROKER_DEADLINE_ENV = "RUNNING_PROCESS_BROKER_CLIENT_TIMEOUT_MS";

// The v1 wire: [u8 framing version = 1][u32 LE body length][protobuf Frame], the Hello and
// its reply riding in Frame.payload under the control-plane payload protocol 0.
const FRAMING_VERSION = 1;
const FRAMING_HEADER_BYTES = 5;
/** A HelloReply is a few hundred bytes; 64 KiB is the broker's own cap for a Hello. */
const MAX_REPLY_BODY_BYTES = 64 * 1024;
const ENVELOPE_VERSION = 1;
const FRAME_KIND_REQUEST = 0;
const FRAME_KIND_RESPONSE = 1;
const CONTROL_PAYLOAD_PROTOCOL = 0;
const PAYLOAD_ENCODING_NONE = 0;
/** Linux sun_path holds 108 bytes including the NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

// Field numbers of broker_v1_envelope.proto.
const FRAME = { envelopeVersion: 1, kind: 2, payloadProtocol: 3, payload: 4, requestId: 5, payloadEncoding: 6 } as const;
const HELLO = {
  minProtocol: 1,
  maxProtocol: 2,
  serviceName: 3,
  wantedVersion: 4,
  clientVersion: 5,
  requestId: 8,
  peerPid: 10,
  libName: 11,
  libVersion: 12,
} as const;
const REPLY = { negotiated: 1, refused: 2 } as const;
const NEGOTIATED = { protocol: 1, backendPipe: 3 } as const;
const REFUSED = { reason: 1, code: 4 } as const;

export type BrokerFailure =
  | { readonly reason: "no-broker"; readonly detail: string }
  | { readonly reason: "timeout"; readonly detail: string }
  | { readonly reason: "refused"; readonly code: number; readonly detail: string }
  | { readonly reason: "bad-reply"; readonly detail: string };

export type Resolution = { readonly ok: true; readonly endpoint: string } | { readonly ok: false; readonly failure: BrokerFailure };

function fail(reason: "no-broker" | "timeout" | "bad-reply", detail: string): Resolution {
  return { ok: false, failure: { reason, detail } };
}

const utf8 = new TextEncoder();

// ---- protobuf (proto3), as much as the Hello needs -------------------------------------------

function pushVarint(out: number[], n: number): void {
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** A message under construction; proto3 leaves zero and empty fields out. */
class MessageWriter {
  private readonly out: number[] = [];

  uint(field: number, n: number): this {
    if (n === 0) return this;
    pushVarint(this.out, field * 8);
    pushVarint(this.out, n);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    if (b.length === 0) return this;
    pushVarint(this.out, field * 8 + 2);
    pushVarint(this.out, b.length);
    for (const x of b) this.out.push(x);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

type Field = { readonly wire: 0; readonly value: number } | { readonly wire: 2; readonly value: Uint8Array };

function readVarint(b: Uint8Array, at: number): { value: number; next: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const x = b[at + i];
    if (x === undefined) return null;
    value += (x & 0x7f) * scale;
    if (x < 0x80) return { value, next: at + i + 1 };
    scale *= 0x80;
  }
  return null;
}

/** The varint and length-delimited fields of a message (the last of each number), or null when the bytes are not protobuf. */
export function parseFields(b: Uint8Array): Map<number, Field> | null {
  const fields = new Map<number, Field>();
  let at = 0;
  while (at < b.length) {
    const tag = readVarint(b, at);
    if (tag === null) return null;
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    if (field === 0) return null;
    at = tag.next;
    if (wire === 0) {
      const v = readVarint(b, at);
      if (v === null) return null;
      fields.set(field, { wire: 0, value: v.value });
      at = v.next;
    } else if (wire === 2) {
      const len = readVarint(b, at);
      if (len === null || len.next + len.value > b.length) return null;
      fields.set(field, { wire: 2, value: b.subarray(len.next, len.next + len.value) });
      at = len.next + len.value;
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
      if (at > b.length) return null;
    } else {
      return null;
    }
  }
  return fields;
}

/** A varint field's value (0 when absent, as proto3 reads it), or null when the field has another wire type. */
function uintField(m: Map<number, Field>, field: number): number | null {
  const f = m.get(field);
  if (f === undefined) return 0;
  return f.wire === 0 ? f.value : null;
}

function bytesField(m: Map<number, Field>, field: number): Uint8Array | null {
  const f = m.get(field);
  if (f === undefined) return new Uint8Array(0);
  return f.wire === 2 ? f.value : null;
}

function stringField(m: Map<number, Field>, field: number): string | null {
  const b = bytesField(m, field);
  if (b === null) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(b);
  } catch {
    return null;
  }
}

// ---- BLAKE3, for inputs of one chunk (the broker's socket name hashes a short identity) ------

const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
const PERMUTATION = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];
const CHUNK_START = 1;
const CHUNK_END = 2;
const ROOT = 8;
const BLOCK_BYTES = 64;
const CHUNK_BYTES = 1024;

function compress(cv: readonly number[], m: readonly number[], blockLen: number, flags: number): number[] {
  // Block counter 0: a single chunk is chunk 0.
  const s = [...cv, IV[0], IV[1], IV[2], IV[3], 0, 0, blockLen, flags] as number[];
  const rotr = (x: number, n: number): number => ((x >>> n) | (x << (32 - n))) >>> 0;
  const g = (a: number, b: number, c: number, d: number, x: number, y: number): void => {
    s[a] = ((s[a] as number) + (s[b] as number) + x) >>> 0;
    s[d] = rotr((s[d] as number) ^ (s[a] as number), 16);
    s[c] = ((s[c] as number) + (s[d] as number)) >>> 0;
    s[b] = rotr((s[b] as number) ^ (s[c] as number), 12);
    s[a] = ((s[a] as number) + (s[b] as number) + y) >>> 0;
    s[d] = rotr((s[d] as number) ^ (s[a] as number), 8);
    s[c] = ((s[c] as number) + (s[d] as number)) >>> 0;
    s[b] = rotr((s[b] as number) ^ (s[c] as number), 7);
  };
  let w = m;
  for (let round = 0; round < 7; round++) {
    const at = (i: number): number => w[i] as number;
    g(0, 4, 8, 12, at(0), at(1));
    g(1, 5, 9, 13, at(2), at(3));
    g(2, 6, 10, 14, at(4), at(5));
    g(3, 7, 11, 15, at(6), at(7));
    g(0, 5, 10, 15, at(8), at(9));
    g(1, 6, 11, 12, at(10), at(11));
    g(2, 7, 8, 13, at(12), at(13));
    g(3, 4, 9, 14, at(14), at(15));
    w = PERMUTATION.map(at);
  }
  return s.slice(0, 8).map((v, i) => (v ^ (s[i + 8] as number)) >>> 0);
}

/** The 32-byte BLAKE3 hash of `input`, or null for inputs longer than one chunk (1 KiB). */
export function blake3(input: Uint8Array): Uint8Array | null {
  if (input.length > CHUNK_BYTES) return null;
  const blocks = Math.max(1, Math.ceil(input.length / BLOCK_BYTES));
  let cv = IV;
  for (let i = 0; i < blocks; i++) {
    const block = new Uint8Array(BLOCK_BYTES);
    const part = input.subarray(i * BLOCK_BYTES, (i + 1) * BLOCK_BYTES);
    block.set(part);
    const view = new DataView(block.buffer);
    const words = Array.from({ length: 16 }, (_, j) => view.getUint32(j * 4, true));
    const flags = (i === 0 ? CHUNK_START : 0) | (i === blocks - 1 ? CHUNK_END | ROOT : 0);
    cv = compress(cv, words, part.length, flags);
  }
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  cv.forEach((v, i) => view.setUint32(i * 4, v, true));
  return out;
}

// ---- discovery: the per-user shared broker's socket -----------------------------------------

const MACHINE_ID_FILES = ["/etc/machine-id", "/var/lib/dbus/machine-id"];
const BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id";

/** A file's text, "absent" when it does not exist, null when it cannot be read. */
export type ReadText = (path: string) => string | "absent" | null;

function readTextFile(p: string): string | "absent" | null {
  try {
    return process.getBuiltinModule("node:fs").readFileSync(p, "utf8");
  } catch (e) {
    return (e as { code?: unknown }).code === "ENOENT" ? "absent" : null;
  }
}

/**
 * What the broker names this user on this machine by: "<uid>:<machine id>", the machine id
 * from the first non-empty machine-id file, else "boot:<boot id>". An unreadable machine-id
 * file is no answer (null), as for the broker: guessing could name another broker.
 */
export function userIdentity(uid: number, read: ReadText = readTextFile): string | null {
  for (const file of MACHINE_ID_FILES) {
    const text = read(file);
    if (text === null) return null;
    if (text !== "absent" && text.trim() !== "") return `${uid}:${text.trim()}`;
  }
  const boot = read(BOOT_ID_FILE);
  if (boot === null || boot === "absent" || boot.trim() === "") return null;
  return `${uid}:boot:${boot.trim()}`;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * The shared broker's socket: rpb-v1-<first 8 bytes of BLAKE3(identity), hex>-shared.sock in
 * $XDG_RUNTIME_DIR/running-process/broker, else /tmp/running-process-<uid>/broker; null when
 * that path would not fit in a sockaddr_un.
 */
export function sharedBrokerSocket(env: Env, uid: number, identity: string): string | null {
  const digest = blake3(utf8.encode(identity));
  if (digest === null) return null;
  const xdg = env.XDG_RUNTIME_DIR;
  const dir = xdg ? `${xdg.replace(/\/+$/, "")}/running-process/broker` : `/tmp/running-process-${uid}/broker`;
  const p = `${dir}/rpb-v1-${hex(digest.subarray(0, 8))}-shared.sock`;
  return utf8.encode(p).length <= MAX_SOCKET_PATH_BYTES ? p : null;
}

// ---- the Hello ------------------------------------------------------------------------------

export interface HelloFields {
  readonly wantedVersion: string;
  readonly peerPid: number;
}

/** The framed Hello request: service "zccache", protocols [1, 1], the daemon version we want. */
export function helloRequest(h: HelloFields): Uint8Array {
  const hello = new MessageWriter()
    .uint(HELLO.minProtocol, BROKER_PROTOCOL)
    .uint(HELLO.maxProtocol, BROKER_PROTOCOL)
    .string(HELLO.serviceName, SERVICE_NAME)
    .string(HELLO.wantedVersion, h.wantedVersion)
    .string(HELLO.clientVersion, `zccache/${h.wantedVersion}`)
    .string(HELLO.requestId, `zccache-${h.peerPid}`)
    .uint(HELLO.peerPid, h.peerPid)
    .string(HELLO.libName, "zccache")
    .string(HELLO.libVersion, h.wantedVersion)
    .finish();
  const body = new MessageWriter()
    .uint(FRAME.envelopeVersion, ENVELOPE_VERSION)
    .uint(FRAME.kind, FRAME_KIND_REQUEST)
    .uint(FRAME.payloadProtocol, CONTROL_PAYLOAD_PROTOCOL)
    .bytes(FRAME.payload, hello)
    .uint(FRAME.requestId, 1)
    .finish();
  const out = new Uint8Array(FRAMING_HEADER_BYTES + body.length);
  out[0] = FRAMING_VERSION;
  new DataView(out.buffer).setUint32(1, body.length, true);
  out.set(body, FRAMING_HEADER_BYTES);
  return out;
}

/** What a reply Frame's body says: the endpoint the broker negotiated, or why not. */
export function readHelloReply(body: Uint8Array): Resolution {
  const frame = parseFields(body);
  if (frame === null) return fail("bad-reply", "the reply is not a protobuf Frame");
  const envelope = uintField(frame, FRAME.envelopeVersion);
  const kind = uintField(frame, FRAME.kind);
  const protocol = uintField(frame, FRAME.payloadProtocol);
  const encoding = uintField(frame, FRAME.payloadEncoding);
  const payload = bytesField(frame, FRAME.payload);
  if (envelope !== ENVELOPE_VERSION) return fail("bad-reply", `envelope version ${envelope}, not ${ENVELOPE_VERSION}`);
  if (kind !== FRAME_KIND_RESPONSE) return fail("bad-reply", `frame kind ${kind}, not a response`);
  if (protocol !== CONTROL_PAYLOAD_PROTOCOL) return fail("bad-reply", `payload protocol ${protocol}, not the control plane`);
  if (encoding !== PAYLOAD_ENCODING_NONE) return fail("bad-reply", `payload encoding ${encoding}: compressed`);
  const reply = payload === null ? null : parseFields(payload);
  if (reply === null) return fail("bad-reply", "the payload is not a HelloReply");
  const negotiated = bytesField(reply, REPLY.negotiated);
  const refused = bytesField(reply, REPLY.refused);
  if (negotiated === null || refused === null) return fail("bad-reply", "the HelloReply result has the wrong wire type");
  const hasNegotiated = reply.has(REPLY.negotiated);
  if (hasNegotiated === reply.has(REPLY.refused)) return fail("bad-reply", "the HelloReply holds not exactly one result");
  if (!hasNegotiated) {
    const r = parseFields(refused);
    const code = r === null ? null : uintField(r, REFUSED.code);
    const reason = r === null ? null : stringField(r, REFUSED.reason);
    if (code === null || reason === null) return fail("bad-reply", "unreadable refusal");
    return { ok: false, failure: { reason: "refused", code, detail: reason } };
  }
  const n = parseFields(negotiated);
  const chosen = n === null ? null : uintField(n, NEGOTIATED.protocol);
  const endpoint = n === null ? null : stringField(n, NEGOTIATED.backendPipe);
  if (chosen === null || endpoint === null) return fail("bad-reply", "unreadable negotiation");
  if (chosen !== BROKER_PROTOCOL) return fail("bad-reply", `the broker chose protocol ${chosen}; we offered ${BROKER_PROTOCOL} only`);
  if (endpoint === "") return fail("bad-reply", "the broker negotiated an empty endpoint");
  return { ok: true, endpoint };
}

/** The reply once `buf` holds a whole frame, null while more is needed. */
function takeReply(buf: Uint8Array): Resolution | null {
  if (buf.length >= 1 && buf[0] !== FRAMING_VERSION) return fail("bad-reply", `framing version ${buf[0]}, not ${FRAMING_VERSION}`);
  if (buf.length < FRAMING_HEADER_BYTES) return null;
  const len = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(1, true);
  if (len > MAX_REPLY_BODY_BYTES) return fail("bad-reply", `a reply of ${len} bytes`);
  if (buf.length < FRAMING_HEADER_BYTES + len) return null;
  return readHelloReply(buf.subarray(FRAMING_HEADER_BYTES, FRAMING_HEADER_BYTES + len));
}

/** One Hello to the broker at `socketPath` and its reply, within `deadlineMs` in all. No retry. */
export function negotiate(socketPath: string, hello: Uint8Array, deadlineMs: number): Promise<Resolution> {
  return new Promise<Resolution>((resolve) => {
    let settled = false;
    let sock: { end(): void } | null = null;
    let received = new Uint8Array(0);
    let pending = hello;
    const settle = (r: Resolution): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock?.end();
      resolve(r);
    };
    const timer = setTimeout(() => settle(fail("timeout", `no reply within ${deadlineMs} ms`)), deadlineMs);
    const flush = (socket: Writable): void => {
      pending = writeSome(socket, pending);
    };
    Bun.connect({
      unix: socketPath,
      socket: {
        open(socket) {
          sock = socket;
          if (settled) socket.end();
          else flush(socket);
        },
        drain(socket) {
          flush(socket);
        },
        data(_socket, chunk) {
          const next = new Uint8Array(received.length + chunk.length);
          next.set(received);
          next.set(chunk, received.length);
          received = next;
          const r = takeReply(received);
          if (r !== null) settle(r);
        },
        close() {
          settle(fail("bad-reply", "the broker closed the connection before a whole reply"));
        },
        error(_socket, e) {
          settle(fail("bad-reply", e.message));
        },
        connectError(_socket, e) {
          settle(fail("no-broker", e.message));
        },
      },
    }).catch((e: unknown) => settle(fail("no-broker", e instanceof Error ? e.message : String(e))));
  });
}

/** RUNNING_PROCESS_BROKER_CLIENT_TIMEOUT_MS when it is a whole number of milliseconds above 0. */
export function brokerDeadlineMs(raw: string | undefined): number {
  if (raw !== undefined && /^\s*\d+\s*$/.test(raw) && Number(raw) > 0) return Number(raw);
  return DEFAULT_BROKER_DEADLINE_MS;
}

/** The endpoint the lane would use: the test seam's, or the one the broker negotiates. */
export async function resolveEndpoint(env: Env): Promise<Resolution> {
  const fake = env.RUNNING_PROCESS_FAKE_BACKEND;
  if (fake) return { ok: true, endpoint: fake };
  if (process.platform !== "linux") return fail("no-broker", "broker discovery is implemented for Linux only");
  const uid = process.getuid?.() ?? 0;
  const identity = userIdentity(uid);
  if (identity === null) return fail("no-broker", "no machine identity to find the broker by");
  const socket = sharedBrokerSocket(env, uid, identity);
  if (socket === null) return fail("no-broker", "the broker's socket path would not fit in sun_path");
  return negotiate(socket, helloRequest({ wantedVersion: PRODUCT_VERSION, peerPid: process.pid }), brokerDeadlineMs(env[BROKER_DEADLINE_ENV]));
}

/**
 * An endpoint we may send our request (our whole environment) to and write its answer into
 * the build from: an absolute path to something that is neither a link nor a directory and
 * belongs to us, the rule the direct path applies to the runtime dir.
 */
function ownEndpoint(p: string): boolean {
  if (!p.startsWith("/")) return false;
  const st = lstatPath(p);
  return st.kind === "found" && st.type === "other" && st.uid === (process.getuid?.() ?? 0);
}

/**
 * `request` sent to the endpoint the broker (or the test seam) names, or null: the caller
 * then connects directly. Null too when that endpoint is the direct one (the direct path also
 * starts a daemon there) or its daemon must hand over to a newer one (ours to start, there).
 * A daemon there that stays silent for the whole client deadline is answered as such, not
 * asked a second time.
 */
export async function requestViaBroker(ep: Endpoint, env: Env, request: Request): Promise<RoundTrip | null> {
  const resolved = await resolveEndpoint(env);
  if (!resolved.ok || resolved.endpoint === ep.socketPath || !ownEndpoint(resolved.endpoint)) return null;
  const r = await roundTrip(resolved.endpoint, request);
  if (r.ok) return r.response.type === "error" && r.response.code === "daemon-outdated" ? null : r;
  return r.failure.kind === "timeout" ? r : null;
}
