// The processes a private daemon lives for (`start --owner-pid`, ZCCACHE_OWNER_PID): each is
// remembered with its start time, so a PID reused by another process does not keep us alive.
import { hasExited, type SeenProcess, seeProcess } from "../client/daemon-process.ts";
import { err, ok, type Result } from "../platform/result.ts";

export class Owners {
  private live: SeenProcess[] = [];
  private everOwned = false;

  /** Each PID as running now, or the first that is not a running process (gone, or a zombie). */
  static see(pids: readonly number[]): Result<SeenProcess[], string> {
    const seen: SeenProcess[] = [];
    for (const pid of pids) {
      const p = seeProcess(pid);
      if (p === null) return err(`owner PID ${pid} is not a running process`);
      seen.push(p);
    }
    return ok(seen);
  }

  /** Adds every PID, or none when one of them is not running; returns the PIDs that were new. */
  add(pids: readonly number[]): Result<number[], string> {
    const seen = Owners.see(pids);
    return seen.ok ? ok(this.adopt(seen.value)) : seen;
  }

  /** Adds processes already seen; one known already is not added twice. Returns the new PIDs. */
  adopt(seen: readonly SeenProcess[]): number[] {
    const added: number[] = [];
    for (const p of seen) {
      if (this.live.some((q) => q.pid === p.pid && q.startTicks === p.startTicks)) continue;
      this.live.push(p);
      added.push(p.pid);
    }
    if (seen.length > 0) this.everOwned = true;
    return added;
  }

  /** The owners still running (as of the last prune), by PID. */
  pids(): number[] {
    return this.live.map((p) => p.pid);
  }

  /** Forgets the owners that have exited (or whose PID now names someone else); returns their PIDs. */
  prune(): number[] {
    const gone = this.live.filter(hasExited);
    if (gone.length > 0) this.live = this.live.filter((p) => !gone.includes(p));
    return gone.map((p) => p.pid);
  }

  /** True once the daemon had owners and every one of them has exited: time to go. */
  allExited(): boolean {
    return this.everOwned && this.live.length === 0;
  }
}
