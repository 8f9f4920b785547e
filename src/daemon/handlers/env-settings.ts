// Checks the ZCCACHE_* settings in a build's environment: a running daemon keeps its own
// configuration, so a bad value in the build's env would otherwise go unnoticed.
import { loadConfig } from "../../config/config.ts";

type Env = Readonly<Record<string, string>>;

export class EnvSettingsCheck {
  /** The ZCCACHE_* part of the last environment found valid: builds repeat the same env. */
  private lastGood: string | null = null;

  constructor(private readonly cacheRoot: string) {}

  /** Null when the settings are valid, else one line naming the variable and what it accepts. */
  problem(env: Env): string | null {
    let signature = "";
    for (const k in env) if (k.startsWith("ZCCACHE_")) signature += `${k}=${env[k]}\u0000`;
    if (signature === this.lastGood) return null;
    const r = loadConfig(this.cacheRoot, env);
    if (!r.ok) return r.error;
    this.lastGood = signature;
    return null;
  }
}
