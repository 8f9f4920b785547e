// The Unix-socket server: one framed request per connection, one framed response,
// partial writes finished on drain. Bad frames get an error response; nothing here throws.
import type { Socket, UnixSocketListener } from "bun";
import * as fs from "node:fs";
import { errorMessage } from "../platform/result.ts";
import { encodeFrame, FrameDecoder } from "../protocol/frame.ts";
import { decodeRequest, type ResponseBody } from "../protocol/messages.ts";
import { type Control, dispatch } from "./dispatch.ts";
import type { DaemonState } from "./state.ts";

function runtimeDirPrivate(dir: string, socketPath: string): boolean {
  const uid = process.getuid?.() ?? 0;
  const d = fs.statSync(dir, { throwIfNoEntry: false });
  const s = fs.lstatSync(socketPath, { throwIfNoEntry: false });
  return d !== undefined && d.uid === uid && (d.mode & 0o077) === 0 && s !== undefined && s.uid === uid;
}

/** A client that connects and sends no whole request within this time is dropped. */
const REQUEST_TIMEOUT_SECS = 30;

interface Conn {
  decoder: FrameDecoder;
  pending: Uint8Array | null;
  answered: boolean;
  closed: boolean;
}

type ConnSocket = Socket<Conn>;

function flush(socket: ConnSocket): void {
  const c = socket.data;
  while (c.pending !== null && c.pending.length > 0) {
    const n = socket.write(c.pending);
    if (n <= 0) return;
    c.pending = c.pending.subarray(n);
  }
  if (c.pending !== null) {
    c.pending = null;
    socket.end();
  }
}

export function startServer(
  socketPath: string,
  state: DaemonState,
  control: Control,
): UnixSocketListener<Conn> {
  const respond = (socket: ConnSocket, body: ResponseBody): void => {
    if (socket.data.closed) return;
    socket.data.pending = encodeFrame({ ...body, daemonVersion: state.version, pid: process.pid });
    flush(socket);
  };

  const handle = async (socket: ConnSocket, raw: unknown): Promise<void> => {
    const decoded = decodeRequest(raw);
    if (!decoded.ok) {
      respond(socket, { type: "error", code: "bad-request", message: decoded.error });
      return;
    }
    state.inflight++;
    state.lastActivityMs = Date.now();
    try {
      respond(socket, await dispatch(decoded.value, state, control));
    } catch (e) {
      state.ctx.stats.error("internal", errorMessage(e));
      respond(socket, { type: "error", code: "internal", message: errorMessage(e) });
    } finally {
      state.inflight--;
      state.lastActivityMs = Date.now();
    }
  };

  return Bun.listen<Conn>({
    unix: socketPath,
    socket: {
      open(socket) {
        socket.data = { decoder: new FrameDecoder(), pending: null, answered: false, closed: false };
        // Bun does not expose the peer's uid (SO_PEERCRED): only a 0700 directory of ours
        // keeps other users away from the socket, so refuse to serve once that is no longer so.
        if (!runtimeDirPrivate(state.ep.runtimeDir, state.ep.socketPath)) {
          state.log.error(`refusing a connection: ${state.ep.runtimeDir} or its socket is open to other users`);
          socket.data.answered = true;
          socket.end();
          return;
        }
        socket.timeout(REQUEST_TIMEOUT_SECS);
      },
      data(socket, chunk) {
        const c = socket.data;
        if (c.answered) return;
        const { frames, error } = c.decoder.push(chunk);
        if (error !== null) {
          c.answered = true;
          respond(socket, { type: "error", code: error.code, message: error.message });
          return;
        }
        const first = frames[0];
        if (first === undefined) return;
        c.answered = true;
        socket.timeout(0);
        void handle(socket, first);
      },
      drain(socket) {
        flush(socket);
      },
      timeout(socket) {
        if (!socket.data.answered) socket.end();
      },
      close(socket) {
        socket.data.closed = true;
      },
      error(socket, e) {
        socket.data.closed = true;
        state.log.debug(`connection error: ${e.message}`);
      },
    },
  });
}
