// One remote server, as the tiers above it see it: manifests by cache key, blobs by content
// hash. Implementations only move bytes; timeouts, checks and counting are remote-tier.ts's.
export interface RemoteBackend {
  /** The manifest bytes under `key`, or null when there is none; RemoteTooLarge past `maxBytes`. */
  getManifest(key: string, signal: AbortSignal, maxBytes: number): Promise<Uint8Array | null>;
  putManifest(key: string, bytes: Uint8Array, signal: AbortSignal): Promise<void>;
  /** A blob's bytes, or null when there is none; RemoteTooLarge past `maxBytes` (never read whole). */
  getBlob(hash: string, signal: AbortSignal, maxBytes: number): Promise<Uint8Array | null>;
  hasBlob(hash: string, signal: AbortSignal): Promise<boolean>;
  putBlob(hash: string, bytes: Uint8Array, signal: AbortSignal): Promise<void>;
  /** Drops connections (after a timeout, or when the daemon stops). */
  close(): void;
}

/** A server offered more bytes than the object can have: refused before reading them. */
export class RemoteTooLarge extends Error {
  constructor(what: string, maxBytes: number) {
    super(`${what} is larger than ${maxBytes} bytes`);
  }
}
