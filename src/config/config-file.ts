// Edits one setting in the cache root's zccache.conf (`zccache -M`, `-o KEY=VALUE`): the value
// is checked with the parser loadConfig uses, other lines and comments stay, the write is atomic.
import * as fs from "node:fs";
import * as path from "node:path";
import { errorMessage, err, ok, type Result } from "../platform/result.ts";
import { removeQuietly, siblingTemp } from "../platform/fsx.ts";
import { CONFIG_FILE_NAME, SPECS, validateConfigText } from "./config.ts";

/** The keys zccache.conf accepts, as spelled in the file. */
export const CONFIG_FILE_KEYS: readonly string[] = Object.values(SPECS).map((s) => s.file);

/** The environment variable that overrides `key` (so a caller can warn that a write will not show). */
export function envOverrideFor(key: string): string | null {
  return Object.values(SPECS).find((s) => s.file === key)?.env ?? null;
}

/** Checks `value` for `key` as loadConfig would read it from the file. */
export function validateConfigValue(key: string, value: string): Result<void, string> {
  const spec = Object.values(SPECS).find((s) => s.file === key);
  if (spec === undefined) return err(`unknown configuration key '${key}'`);
  if (/[\r\n]/.test(value)) return err(`${key}: a value may not span lines`);
  const r = (spec.parse as (raw: string) => Result<unknown, string>)(value);
  return r.ok ? ok(undefined) : err(`${key}: ${r.error}`);
}

function keyOf(line: string): string | null {
  const t = line.trim();
  if (t === "" || t.startsWith("#")) return null;
  const eq = t.indexOf("=");
  return eq < 0 ? null : t.slice(0, eq).trim();
}

/**
 * Sets `key = value` in `<cacheDir>/zccache.conf`: replaces the key's line (dropping any later
 * duplicate, which would otherwise win), or appends one. A missing cache dir is created 0700,
 * a missing file 0600; an existing file keeps its mode. Returns the file's path.
 */
export function setConfigValue(cacheDir: string, key: string, value: string): Result<string, string> {
  const v = value.trim();
  const valid = validateConfigValue(key, v);
  if (!valid.ok) return valid;
  // A config file that is a link (to a dotfiles repository, say) is edited where it lives.
  const spelled = path.join(cacheDir, CONFIG_FILE_NAME);
  let file = spelled;
  try {
    file = fs.realpathSync(spelled);
  } catch {
    // absent (or a dangling link, written as a new file in its place)
  }
  let text = "";
  let mode = 0o600;
  try {
    text = fs.readFileSync(file, "utf8");
    mode = fs.statSync(file).mode & 0o7777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") return err(`cannot read ${file}: ${errorMessage(e)}`);
  }
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const out: string[] = [];
  let replaced = false;
  for (const line of lines) {
    if (keyOf(line) !== key) out.push(line);
    else if (!replaced) {
      out.push(`${key} = ${v}`);
      replaced = true;
    }
  }
  if (!replaced) out.push(`${key} = ${v}`);
  const newText = `${out.join("\n")}\n`;
  // The rest of the file must be readable too: a daemon refuses a file with any bad line, so
  // writing one good value into a bad file would only look like success.
  const whole = validateConfigText(newText, file);
  if (!whole.ok) return err(`${whole.error}; fix that line first (nothing was changed)`);
  const tmp = siblingTemp(file);
  try {
    fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(tmp, newText, { mode });
    fs.chmodSync(tmp, mode); // the umask may have narrowed it
    fs.renameSync(tmp, file);
  } catch (e) {
    removeQuietly(tmp);
    return err(`cannot write ${file}: ${errorMessage(e)}`);
  }
  return ok(file);
}
