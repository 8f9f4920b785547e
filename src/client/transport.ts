// One request, one response over the daemon's Unix socket, with partial writes handled on
// drain and an inactivity deadline: a daemon that sends nothing, not even a progress frame,
// for ZCCACHE_CLIENT_TIMEOUT_SECS is given up on (a stopped daemon still accepts connects).
import { encodeFrame, FRAME_KIND_JSON, FRAME_KIND_PROGRESS, FrameDecoder, SPOKEN_PROTOCOL_VERSION } from "../protocol/frame.ts";
import { decodeResponse, type Request, type Response } from "../protocol/messages.ts";

export type RoundTripFailure =
  | { readonly kind: "no-daemon"; readonly detail: string }
  | { readonly kind: "hung-up"; readonly detail: string }
  | { readonly kind: "bad-response"; readonly detail: string }
  /** Silence for the whole deadline: the daemon is stopped, deadlocked or swamped. */
  | { readonly kind: "timeout"; readonly detail: string; readonly startedAtMs: number }
  /** The daemon speaks an older protocol and must be replaced; its pid when its answer named it. */
  | { readonly kind: "old-daemon"; readonly detail: string; readonly pid: number | null }
  /** A ZCCACHE_* setting is invalid: the message names it and what it accepts. */
  | { readonly kind: "bad-setting"; readonly detail: string };

export type RoundTrip = { ok: true; response: Response } | { ok: false; failure: RoundTripFailure };

export const DEFAULT_CLIENT_TIMEOUT_SECS = 10;

/** ZCCACHE_CLIENT_TIMEOUT_SECS as milliseconds, or the problem with its value. */
export function parseClientTimeout(raw: string | undefined): { ms: number } | { problem: string } {
  if (raw === undefined || raw === "") return { ms: DEFAULT_CLIENT_TIMEOUT_SECS * 1000 };
  if (/^\s*\d+\s*$/.test(raw) && Number(raw) > 0) return { ms: Number(raw) * 1000 };
  return { problem: `ZCCACHE_CLIENT_TIMEOUT_SECS: expected whole seconds greater than 0, got '${raw}'` };
}

/** Read once: the deadline every round trip of this process uses unless told otherwise. */
export const CLIENT_TIMEOUT = parseClientTimeout(process.env.ZCCACHE_CLIENT_TIMEOUT_SECS);
const DEFAULT_TIMEOUT_MS = "ms" in CLIENT_TIMEOUT ? CLIENT_TIMEOUT.ms : DEFAULT_CLIENT_TIMEOUT_SECS * 1000;

/**
 * After the deadline passes, data may already be waiting behind a stalled event loop (the
 * client itself was descheduled): look once more after this grace before giving up.
 */
const GRACE_MS = 50;

function pidOf(json: unknown): number | null {
  if (typeof json !== "object" || json === null || !("pid" in json)) return null;
  const pid = json.pid;
  return typeof pid === "number" && Number.isInteger(pid) && pid > 0 ? pid : null;
}

interface Closable {
  end(): void;
}

/** A Bun socket as far as writing goes: write() may take only part of the bytes, or none. */
export interface Writable {
  write(b: Uint8Array): number;
}

/** Writes as much of `pending` as the socket takes now; returns what is left for its drain. */
export function writeSome(socket: Writable, pending: Uint8Array): Uint8Array {
  let rest = pending;
  while (rest.length > 0) {
    const n = socket.write(rest);
    if (n <= 0) break;
    rest = rest.subarray(n);
  }
  return rest;
}

export function roundTrip(socketPath: string, request: Request, timeoutMs: number = DEFAULT_TIMEOUT_MS): Promise<RoundTrip> {
  return new Promise<RoundTrip>((resolve) => {
    const startedAtMs = Date.now();
    let lastHeardMs = startedAtMs;
    let settled = false;
    let sock: Closable | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const settle = (r: RoundTrip): void => {
      if (settled) return;
      settled = true;
      if (timer !== null) clearTimeout(timer);
      sock?.end();
      resolve(r);
    };
    const heard = (): void => {
      lastHeardMs = Date.now();
    };
    const check = (graceUsed: boolean): void => {
      const silentMs = Date.now() - lastHeardMs;
      if (silentMs < timeoutMs) {
        timer = setTimeout(() => check(false), timeoutMs - silentMs);
      } else if (!graceUsed) {
        timer = setTimeout(() => check(true), GRACE_MS);
      } else {
        const detail = `nothing heard for ${Math.round(silentMs / 1000)} s`;
        settle({ ok: false, failure: { kind: "timeout", detail, startedAtMs } });
      }
    };
    timer = setTimeout(() => check(false), timeoutMs);

    const decoder = new FrameDecoder();
    let pending: Uint8Array = encodeFrame(request);
    const flush = (socket: Writable): void => {
      const before = pending.length;
      pending = writeSome(socket, pending);
      if (pending.length < before) heard();
    };
    Bun.connect({
      unix: socketPath,
      socket: {
        open(socket) {
          sock = socket;
          if (settled) {
            socket.end();
            return;
          }
          heard();
          flush(socket);
        },
        drain(socket) {
          flush(socket);
        },
        data(_socket, chunk) {
          heard();
          const { frames, error } = decoder.push(chunk);
          for (const frame of frames) {
            if (frame.kind === FRAME_KIND_PROGRESS) continue;
            if (frame.kind !== FRAME_KIND_JSON) {
              settle({ ok: false, failure: { kind: "bad-response", detail: `unexpected frame of kind ${frame.kind}` } });
              return;
            }
            const decoded = decodeResponse(frame.json);
            settle(
              decoded.ok
                ? { ok: true, response: decoded.value }
                : { ok: false, failure: { kind: "bad-response", detail: decoded.error } },
            );
            return;
          }
          if (error === null) return;
          if (error.code === "bad-version" && error.version < SPOKEN_PROTOCOL_VERSION) {
            settle({ ok: false, failure: { kind: "old-daemon", detail: error.message, pid: pidOf(error.json) } });
            return;
          }
          settle({ ok: false, failure: { kind: "bad-response", detail: error.message } });
        },
        close() {
          settle({ ok: false, failure: { kind: "hung-up", detail: "daemon closed the connection without a reply" } });
        },
        error(_socket, e) {
          settle({ ok: false, failure: { kind: "hung-up", detail: e.message } });
        },
        connectError(_socket, e) {
          settle({ ok: false, failure: { kind: "no-daemon", detail: e.message } });
        },
      },
    }).catch((e: unknown) => {
      settle({ ok: false, failure: { kind: "no-daemon", detail: e instanceof Error ? e.message : String(e) } });
    });
  });
}
