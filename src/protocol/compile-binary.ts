// Payloads of the binary compile frames the native launcher speaks (kind 1 request, kind 2
// reply): u32 LE integers and u32-length-prefixed byte strings. A kind-1 payload decodes to
// exactly the CompileRequest the JSON path produces; malformed input is a typed error.
import { err, ok, type Result } from "../platform/result.ts";
import { type CompileRequest, decodeRequest, type ResponseBody } from "./messages.ts";

export type BinaryDecodeError =
  | { readonly code: "truncated"; readonly message: string }
  | { readonly code: "too-many"; readonly message: string }
  | { readonly code: "trailing-bytes"; readonly message: string }
  | { readonly code: "bad-tag"; readonly message: string }
  | { readonly code: "bad-env-entry"; readonly message: string }
  | { readonly code: "invalid-request"; readonly message: string };

/** What a kind-2 frame carries: a replayable result, or "run this compiler yourself". */
export type BinaryReply =
  | { readonly type: "compile-result"; readonly exitCode: number; readonly stdout: Uint8Array; readonly stderr: Uint8Array }
  | { readonly type: "run-local"; readonly compilerPath: string };

const REPLY_RESULT = 0;
const REPLY_RUN_LOCAL = 1;

// ignoreBOM: a leading U+FEFF in an argument is data, not a byte-order mark to drop.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();

class Reader {
  private at = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.at;
  }

  u8(): number | null {
    if (this.remaining < 1) return null;
    return this.view.getUint8(this.at++);
  }

  u32(): number | null {
    if (this.remaining < 4) return null;
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }

  bytesOf(): Uint8Array | null {
    const n = this.u32();
    if (n === null || n > this.remaining) return null;
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  str(): string | null {
    const b = this.bytesOf();
    return b === null ? null : utf8.decode(b);
  }

  /** A count of strings, refused before looping when the payload cannot hold that many. */
  count(): number | null {
    const n = this.u32();
    return n === null || n * 4 > this.remaining ? null : n;
  }
}

class Writer {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  u8(v: number): this {
    return this.push(Uint8Array.of(v));
  }

  u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    return this.push(b);
  }

  i32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v | 0, true);
    return this.push(b);
  }

  bytes(b: Uint8Array): this {
    return this.u32(b.length).push(b);
  }

  str(s: string): this {
    return this.bytes(encoder.encode(s));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const p of this.parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }

  private push(b: Uint8Array): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }
}

const truncated = (what: string): BinaryDecodeError => ({ code: "truncated", message: `compile frame: ${what} runs past the end` });

export function encodeCompileRequest(req: CompileRequest): Uint8Array {
  const w = new Writer()
    .str(req.clientVersion)
    .str(req.compiler)
    .str(req.cwd)
    .str(req.selfExe ?? "")
    .str(req.sessionId ?? "")
    .u32(req.clientPid)
    .u32(req.args.length);
  for (const a of req.args) w.str(a);
  const env = Object.entries(req.env);
  w.u32(env.length);
  for (const [k, v] of env) w.str(`${k}=${v}`);
  return w.finish();
}

export function decodeCompileRequest(payload: Uint8Array): Result<CompileRequest, BinaryDecodeError> {
  const r = new Reader(payload);
  const head: string[] = [];
  for (const field of ["clientVersion", "compiler", "cwd", "selfExe", "sessionId"]) {
    const s = r.str();
    if (s === null) return err(truncated(field));
    head.push(s);
  }
  const [clientVersion, compiler, cwd, selfExe, sessionId] = head;
  const clientPid = r.u32();
  if (clientPid === null) return err(truncated("clientPid"));
  const argc = r.count();
  if (argc === null) return err({ code: "too-many", message: "compile frame: argument count exceeds the payload" });
  const args: string[] = [];
  for (let i = 0; i < argc; i++) {
    const a = r.str();
    if (a === null) return err(truncated(`argument ${i}`));
    args.push(a);
  }
  const envc = r.count();
  if (envc === null) return err({ code: "too-many", message: "compile frame: environment count exceeds the payload" });
  const entries: [string, string][] = [];
  const seen = new Set<string>();
  for (let i = 0; i < envc; i++) {
    const e = r.str();
    if (e === null) return err(truncated(`environment entry ${i}`));
    const eq = e.indexOf("=");
    if (eq < 0) return err({ code: "bad-env-entry", message: `compile frame: environment entry ${i} has no '='` });
    const key = e.slice(0, eq);
    // getenv() semantics: the first of duplicate entries is the one a process sees.
    if (seen.has(key)) continue;
    seen.add(key);
    entries.push([key, e.slice(eq + 1)]);
  }
  if (r.remaining !== 0) return err({ code: "trailing-bytes", message: `compile frame: ${r.remaining} bytes after the environment` });
  const decoded = decodeRequest({
    type: "compile",
    clientVersion,
    compiler,
    args,
    cwd,
    // fromEntries defines own properties: an entry named "__proto__" stays data, as in JSON.parse.
    env: Object.fromEntries(entries),
    clientPid,
    selfExe: selfExe === "" ? undefined : selfExe,
    sessionId: sessionId === "" ? undefined : sessionId,
  });
  if (!decoded.ok) return err({ code: "invalid-request", message: decoded.error });
  if (decoded.value.type !== "compile") return err({ code: "invalid-request", message: "not a compile request" });
  return ok(decoded.value);
}

export function encodeCompileReply(reply: BinaryReply): Uint8Array {
  if (reply.type === "run-local") return new Writer().u8(REPLY_RUN_LOCAL).str(reply.compilerPath).finish();
  return new Writer().u8(REPLY_RESULT).i32(reply.exitCode).bytes(reply.stdout).bytes(reply.stderr).finish();
}

export function decodeCompileReply(payload: Uint8Array): Result<BinaryReply, BinaryDecodeError> {
  const r = new Reader(payload);
  const tag = r.u8();
  let reply: BinaryReply;
  if (tag === REPLY_RESULT) {
    const code = r.u32();
    if (code === null) return err(truncated("exit code"));
    const stdout = r.bytesOf();
    if (stdout === null) return err(truncated("stdout"));
    const stderr = r.bytesOf();
    if (stderr === null) return err(truncated("stderr"));
    reply = { type: "compile-result", exitCode: code | 0, stdout, stderr };
  } else if (tag === REPLY_RUN_LOCAL) {
    const compilerPath = r.str();
    if (compilerPath === null) return err(truncated("compiler path"));
    reply = { type: "run-local", compilerPath };
  } else {
    return err({ code: "bad-tag", message: `compile reply: unknown tag ${tag ?? "(none)"}` });
  }
  if (r.remaining !== 0) return err({ code: "trailing-bytes", message: `compile reply: ${r.remaining} bytes after the reply` });
  return ok(reply);
}

/**
 * The kind-2 form of a compile answer, or null when it must travel as a kind-0 JSON frame
 * (errors, daemon-outdated, …), which the launcher hands over to the TypeScript program.
 */
export function binaryReplyFor(body: ResponseBody): BinaryReply | null {
  if (body.type === "compile-result") {
    return {
      type: "compile-result",
      exitCode: body.exitCode,
      stdout: Buffer.from(body.stdout, "base64"),
      stderr: Buffer.from(body.stderr, "base64"),
    };
  }
  // A run-local carrying a line for the user goes as JSON: only the TS program prints it.
  if (body.type === "run-local" && body.message === undefined) return { type: "run-local", compilerPath: body.compilerPath ?? "" };
  return null;
}
