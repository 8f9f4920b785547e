// One remote server, as the tiers above it see it: manifests by cache key, blobs by content
// hash. Implementations only move bytes; timeouts, checks and counting are remote-tier.ts's.
export interface RemoteBackend {
  /** The manifest bytes under `key`, or null when there is none. */
  getManifest(key: string, signal: AbortSignal): Promise<Uint8Array | null>;
  putManifest(key: string, bytes: Uint8Array, signal: AbortSignal): Promise<void>;
  getBlob(hash: string, signal: AbortSignal): Promise<Uint8Array | null>;
  hasBlob(hash: string, signal: AbortSignal): Promise<boolean>;
  putBlob(hash: string, bytes: Uint8Array, signal: AbortSignal): Promise<void>;
  /** Drops connections (after a timeout, or when the daemon stops). */
  close(): void;
}
