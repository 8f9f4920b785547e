// A Redis server as a remote tier, through Bun's built-in client: manifests under
// "zccache:m:<key>", blobs under "zccache:b:<sha256>". One connection, made on first use and
// dropped after any failure (the next operation connects again, if the breaker lets it).
import { RedisClient } from "bun";
import { type RemoteBackend, RemoteTooLarge } from "./backend.ts";
import type { RedisSpec } from "./spec.ts";
import { RemoteTimeout } from "./tier.ts";

const PREFIX = "zccache:";

export class RedisBackend implements RemoteBackend {
  private client: RedisClient | null = null;
  private connecting: Promise<RedisClient> | null = null;

  constructor(private readonly spec: RedisSpec) {}

  private async conn(signal: AbortSignal): Promise<RedisClient> {
    if (this.client?.connected) return this.client;
    if (this.connecting === null) {
      const c = new RedisClient(this.spec.url, {
        connectionTimeout: this.spec.connectTimeoutMs,
        autoReconnect: false,
        enableOfflineQueue: false,
        maxRetries: 0,
      });
      const started = performance.now();
      this.connecting = c.connect().then(
        () => {
          this.connecting = null;
          this.client = c;
          return c;
        },
        (e: unknown) => {
          this.connecting = null;
          c.close();
          // Bun reports a handshake cut short by connectionTimeout as a closed connection.
          if (performance.now() - started >= this.spec.connectTimeoutMs * 0.9) throw new RemoteTimeout("connect", this.spec.connectTimeoutMs);
          throw e;
        },
      );
    }
    return abortable(this.connecting, signal);
  }

  /**
   * Runs one command. A lost connection or an abort drops it so the next command starts
   * clean; an error reply (OOM, READONLY, …) leaves the connection to the commands sharing it.
   */
  private async run<T>(signal: AbortSignal, op: (c: RedisClient) => Promise<T>): Promise<T> {
    const c = await this.conn(signal);
    try {
      return await abortable(op(c), signal);
    } catch (e) {
      if (signal.aborted || !c.connected) {
        if (this.client === c) this.client = null;
        c.close();
      }
      throw e;
    }
  }

  /** GET of at most `maxBytes`: the length is asked first, so a huge value is never read. */
  private async getCapped(c: RedisClient, name: string, maxBytes: number): Promise<Uint8Array | null> {
    // One round trip (the client pipelines the two), then the GET only for a value we will take.
    const [len, there] = await Promise.all([c.send("STRLEN", [name]), c.exists(name)]);
    if (!there) return null;
    if (Number(len) > maxBytes) throw new RemoteTooLarge("the object", maxBytes);
    const v = await c.getBuffer(name);
    if (v !== null && v.length > maxBytes) throw new RemoteTooLarge("the object", maxBytes);
    return v;
  }

  getManifest(key: string, signal: AbortSignal, maxBytes: number): Promise<Uint8Array | null> {
    return this.run(signal, (c) => this.getCapped(c, `${PREFIX}m:${key}`, maxBytes));
  }

  async putManifest(key: string, bytes: Uint8Array, signal: AbortSignal): Promise<void> {
    await this.run(signal, (c) => c.set(`${PREFIX}m:${key}`, bytes));
  }

  getBlob(hash: string, signal: AbortSignal, maxBytes: number): Promise<Uint8Array | null> {
    return this.run(signal, (c) => this.getCapped(c, `${PREFIX}b:${hash}`, maxBytes));
  }

  hasBlob(hash: string, signal: AbortSignal): Promise<boolean> {
    return this.run(signal, (c) => c.exists(`${PREFIX}b:${hash}`));
  }

  async putBlob(hash: string, bytes: Uint8Array, signal: AbortSignal): Promise<void> {
    await this.run(signal, (c) => c.set(`${PREFIX}b:${hash}`, bytes));
  }

  close(): void {
    this.client?.close();
    this.client = null;
  }
}

/** `p`, or a rejection as soon as `signal` aborts (the work behind `p` is the caller's to stop). */
export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
