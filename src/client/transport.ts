// One request, one response over the daemon's Unix socket, with partial writes handled on drain.
import { encodeFrame, FrameDecoder } from "../protocol/frame.ts";
import { decodeResponse, type Request, type Response } from "../protocol/messages.ts";

export type RoundTripFailure =
  | { readonly kind: "no-daemon"; readonly detail: string }
  | { readonly kind: "hung-up"; readonly detail: string }
  | { readonly kind: "bad-response"; readonly detail: string };

export type RoundTrip = { ok: true; response: Response } | { ok: false; failure: RoundTripFailure };

export function roundTrip(socketPath: string, request: Request): Promise<RoundTrip> {
  return new Promise<RoundTrip>((resolve) => {
    let settled = false;
    const settle = (r: RoundTrip): void => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    const decoder = new FrameDecoder();
    let pending: Uint8Array = encodeFrame(request);
    const flush = (socket: { write(b: Uint8Array): number }): void => {
      while (pending.length > 0) {
        const n = socket.write(pending);
        if (n <= 0) return;
        pending = pending.subarray(n);
      }
    };
    Bun.connect({
      unix: socketPath,
      socket: {
        open(socket) {
          flush(socket);
        },
        drain(socket) {
          flush(socket);
        },
        data(socket, chunk) {
          const { frames, error } = decoder.push(chunk);
          if (error) {
            settle({ ok: false, failure: { kind: "bad-response", detail: error.message } });
            socket.end();
            return;
          }
          const first = frames[0];
          if (first !== undefined) {
            const decoded = decodeResponse(first);
            settle(
              decoded.ok
                ? { ok: true, response: decoded.value }
                : { ok: false, failure: { kind: "bad-response", detail: decoded.error } },
            );
            socket.end();
          }
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
