// The Unix-socket server: one request frame per connection, answered by one frame (after
// progress frames while the answer is being worked out), partial writes finished on drain.
// Bad frames get an error response; a peer of another protocol version is told so; nothing
// here throws.
import type { Socket, UnixSocketListener } from "bun";
import * as fs from "node:fs";
import { errorMessage } from "../platform/result.ts";
import {
  encodeFrame,
  encodeProgressFrame,
  encodeRawFrame,
  FRAME_KIND_COMPILE_REPLY,
  FRAME_KIND_COMPILE_REQUEST,
  FRAME_KIND_JSON,
  type FrameError,
  FrameDecoder,
  SPOKEN_PROTOCOL_VERSION,
} from "../protocol/frame.ts";
import { binaryReplyFor, decodeCompileRequest, encodeCompileReply } from "../protocol/compile-binary.ts";
import { decodeRequest, type ResponseBody } from "../protocol/messages.ts";
import { judgeDir } from "../protocol/runtime-dir.ts";
import { lstatPath } from "../platform/lstat.ts";
import { type Control, dispatch } from "./dispatch.ts";
import type { DaemonState } from "./state.ts";

function runtimeDirPrivate(dir: string, socketPath: string): boolean {
  const uid = process.getuid?.() ?? 0;
  // lstat: a runtime dir swapped for a symlink since start-up is no longer ours to trust.
  const s = fs.lstatSync(socketPath, { throwIfNoEntry: false });
  return judgeDir(lstatPath(dir), uid).kind === "private" && s !== undefined && s.uid === uid;
}

/** A client that connects and sends no whole request within this time is dropped. */
const REQUEST_TIMEOUT_SECS = 30;
/** Clients give up after ZCCACHE_CLIENT_TIMEOUT_SECS (at least 1 s) without a frame. */
const PROGRESS_INTERVAL_MS = 1_000;

interface Conn {
  decoder: FrameDecoder;
  /** Bytes queued for the peer and not yet accepted by the socket. */
  out: Uint8Array;
  endWhenFlushed: boolean;
  ended: boolean;
  answered: boolean;
  closed: boolean;
}

type ConnSocket = Socket<Conn>;

function flush(socket: ConnSocket): void {
  const c = socket.data;
  while (c.out.length > 0) {
    const n = socket.write(c.out);
    if (n <= 0) return;
    c.out = c.out.subarray(n);
  }
  if (c.endWhenFlushed && !c.ended) {
    c.ended = true;
    socket.end();
  }
}

/** Queues one encoded frame; `then: "end"` closes the connection once it is written. */
export function sendFrame(socket: ConnSocket, frame: Uint8Array, then: "end" | "keep-open"): void {
  const c = socket.data;
  if (c.closed || c.ended) return;
  if (c.out.length === 0) c.out = frame;
  else {
    const merged = new Uint8Array(c.out.length + frame.length);
    merged.set(c.out, 0);
    merged.set(frame, c.out.length);
    c.out = merged;
  }
  if (then === "end") c.endWhenFlushed = true;
  flush(socket);
}

export function startServer(
  socketPath: string,
  state: DaemonState,
  control: Control,
): UnixSocketListener<Conn> {
  const encodeResponse = (body: ResponseBody, version: number = SPOKEN_PROTOCOL_VERSION): Uint8Array =>
    encodeFrame({ ...body, daemonVersion: state.version, pid: process.pid }, version);

  const respond = (socket: ConnSocket, body: ResponseBody): void => {
    sendFrame(socket, encodeResponse(body), "end");
  };

  /**
   * Runs `work` for one request: counts it in flight, sends a progress frame every second
   * until the answer is ready (so the client's inactivity deadline never cuts off a long
   * compile), then sends the answer and closes.
   */
  const serve = async (socket: ConnSocket, work: () => Promise<Uint8Array>): Promise<void> => {
    state.inflight++;
    state.lastActivityMs = Date.now();
    const ticker = setInterval(() => {
      // Something still being written is progress enough; never split a frame.
      if (socket.data.out.length === 0) sendFrame(socket, encodeProgressFrame(), "keep-open");
    }, PROGRESS_INTERVAL_MS);
    let answer: Uint8Array;
    try {
      answer = await work();
    } catch (e) {
      state.ctx.stats.error("internal", errorMessage(e));
      answer = encodeResponse({ type: "error", code: "internal", message: errorMessage(e) });
    } finally {
      clearInterval(ticker);
      state.inflight--;
      state.lastActivityMs = Date.now();
    }
    sendFrame(socket, answer, "end");
  };

  const handleJson = async (raw: unknown): Promise<Uint8Array> => {
    const decoded = decodeRequest(raw);
    if (!decoded.ok) return encodeResponse({ type: "error", code: "bad-request", message: decoded.error });
    return encodeResponse(await dispatch(decoded.value, state, control));
  };

  /** The native launcher's compile: same request, same handler; kind 2 only for what it can replay. */
  const handleBinaryCompile = async (payload: Uint8Array): Promise<Uint8Array> => {
    const decoded = decodeCompileRequest(payload);
    if (!decoded.ok) return encodeResponse({ type: "error", code: "bad-request", message: decoded.error.message });
    const body = await dispatch(decoded.value, state, control);
    const reply = binaryReplyFor(body);
    return reply === null ? encodeResponse(body) : encodeRawFrame(FRAME_KIND_COMPILE_REPLY, encodeCompileReply(reply));
  };

  /** A peer of another protocol version: an older client compiles by itself, a newer one replaces us. */
  const answerOtherVersion = (socket: ConnSocket, error: FrameError & { code: "bad-version" }): void => {
    if (error.version < SPOKEN_PROTOCOL_VERSION) {
      // Answered in the client's own version, which it can read.
      sendFrame(socket, encodeResponse({ type: "run-local", reason: "client-outdated" }, error.version), "end");
      return;
    }
    state.log.info(`a client speaks protocol ${error.version}, newer than ${SPOKEN_PROTOCOL_VERSION}; handing over`);
    respond(socket, {
      type: "error",
      code: "daemon-outdated",
      message: `daemon ${state.version} speaks protocol ${SPOKEN_PROTOCOL_VERSION}, older than the client's ${error.version}`,
    });
    control.requestShutdown();
  };

  return Bun.listen<Conn>({
    unix: socketPath,
    socket: {
      open(socket) {
        socket.data = {
          decoder: new FrameDecoder(),
          out: new Uint8Array(0),
          endWhenFlushed: false,
          ended: false,
          answered: false,
          closed: false,
        };
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
        const first = frames[0];
        if (first === undefined) {
          if (error === null) return;
          c.answered = true;
          socket.timeout(0);
          if (error.code === "bad-version") answerOtherVersion(socket, error);
          else respond(socket, { type: "error", code: error.code, message: error.message });
          return;
        }
        // One request per connection: anything after the first frame is ignored.
        c.answered = true;
        socket.timeout(0);
        switch (first.kind) {
          case FRAME_KIND_JSON:
            void serve(socket, () => handleJson(first.json));
            return;
          case FRAME_KIND_COMPILE_REQUEST:
            void serve(socket, () => handleBinaryCompile(first.payload));
            return;
          default:
            respond(socket, { type: "error", code: "bad-kind", message: `a request cannot be a frame of kind ${first.kind}` });
        }
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
