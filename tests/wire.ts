// Raw socket exchanges for the wire-protocol suites: bytes in, bytes out, and whether the
// daemon closed the connection.
import * as net from "node:net";

export interface Exchange {
  readonly data: Buffer;
  /** The daemon closed (or reset) the connection within the wait. */
  readonly closed: boolean;
}

/**
 * Connects, writes each chunk as its own write (`gapMs` apart), then half-closes (`end`),
 * drops the connection at once (`destroy`), or keeps it open, and collects the reply for up
 * to `waitMs`.
 */
export function exchange(
  socketPath: string,
  chunks: readonly Buffer[],
  after: "end" | "destroy" | "keep" = "keep",
  waitMs = 10_000,
  gapMs = 5,
): Promise<Exchange> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ data: Buffer.concat(parts), closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    const sock = net.createConnection({ path: socketPath });
    sock.on("data", (d: Buffer) => parts.push(d));
    sock.on("close", () => finish(true));
    sock.on("error", () => finish(true));
    sock.on("connect", async () => {
      for (const c of chunks) {
        sock.write(c);
        if (chunks.length > 1) await new Promise((r) => setTimeout(r, gapMs));
      }
      if (after === "end") sock.end();
      if (after === "destroy") finish(true);
    });
  });
}
