// Reads the ZCCACHE_* settings in a build's environment: a running daemon keeps its own
// configuration, so a bad value in the build's env would otherwise go unnoticed, and the
// per-build ones (base_dir, path_remap) apply to that build's compiles.
import { type Config, loadConfig } from "../../config/config.ts";
import { err, ok, type Result } from "../../platform/result.ts";

type Env = Readonly<Record<string, string>>;

export class EnvSettingsCheck {
  /** The ZCCACHE_* part of the last environment read, and its settings: builds repeat the same env. */
  private last: { signature: string; config: Config } | null = null;

  constructor(private readonly cacheRoot: string) {}

  /** The build's settings, or one line naming the variable and what it accepts. */
  settings(env: Env): Result<Config, string> {
    let signature = "";
    for (const k in env) if (k.startsWith("ZCCACHE_")) signature += `${k}=${env[k]}\u0000`;
    if (this.last !== null && signature === this.last.signature) return ok(this.last.config);
    const r = loadConfig(this.cacheRoot, env);
    if (!r.ok) return err(r.error);
    this.last = { signature, config: r.value };
    return r;
  }
}
