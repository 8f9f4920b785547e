// The daemon's lifecycle as JSON lines in <root>/logs/lifecycle.jsonl (start, hand-over,
// exits, crash recovery), rotated by size like the log and the journal.
import { RotatingFile } from "../platform/rotating-file.ts";
import { START_REASON_ENV } from "../protocol/daemon-start.ts";
import type { LogModes } from "./logger.ts";

const MAX_LIFECYCLE_BYTES = 1024 * 1024;

/** Why this daemon started: spawned by a compile or command ("auto"), or by `zccache start`. */
export type StartReason = "auto" | "start";

export function startReasonFrom(env: Readonly<Record<string, string | undefined>>): StartReason {
  return env[START_REASON_ENV] === "start" ? "start" : "auto";
}

export type LifecycleEvent =
  | { readonly event: "start"; readonly reason: StartReason; readonly owners: readonly number[] }
  /** The lock held the PID of a daemon that died without a clean stop, or its socket was left. */
  | { readonly event: "crash-recovered"; readonly previous_pid: number | null; readonly stale_socket: boolean }
  | { readonly event: "owner-added"; readonly owners: readonly number[] }
  /** This daemon handed over to a newer client: its product version, or null for a newer protocol. */
  | { readonly event: "version-replace"; readonly newer_client: string | null }
  | { readonly event: "idle-exit"; readonly idle_secs: number }
  | { readonly event: "owner-exit"; readonly owners: readonly number[] }
  | { readonly event: "stop"; readonly by: "request" | "SIGTERM" | "SIGINT" };

/** An event that ends the daemon. */
export type ExitEvent = Extract<LifecycleEvent, { event: "version-replace" | "idle-exit" | "owner-exit" | "stop" }>;

export class LifecycleEvents {
  private readonly out: RotatingFile;

  constructor(
    private readonly version: string,
    maxBytes: number = MAX_LIFECYCLE_BYTES,
  ) {
    this.out = new RotatingFile(maxBytes);
  }

  get file(): string | null {
    return this.out.file;
  }

  /** Points the file at `file` (again), e.g. after the cache root was recreated. */
  reopen(file: string | null, modes: LogModes): void {
    this.out.reopen(file, modes);
  }

  record(e: LifecycleEvent): void {
    const { event, ...details } = e;
    this.out.append(`${JSON.stringify({ ts: new Date().toISOString(), event, pid: process.pid, version: this.version, ...details })}\n`);
  }
}
