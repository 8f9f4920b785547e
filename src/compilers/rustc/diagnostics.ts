// rustc's stderr as stored: with `--json=artifacts` it names every output it wrote
// (`{"artifact":"<path>","emit":"link"}`); those paths become placeholders so a hit in
// another target dir replays lines that name the files it just wrote.
import type { RustOutput } from "./outputs.ts";

const NUL = "\u0000";

// Built from a string: a regex literal with NUL trips the control-character lint.
const PLACEHOLDER = new RegExp(`${NUL}out:([^${NUL}]*)${NUL}`, "g");

function jsonString(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

function artifactField(p: string): string {
  return `"artifact":"${jsonString(p)}"`;
}

/** Null when the bytes are not UTF-8 (then they cannot be rewritten safely). */
export function stderrTemplate(stderr: Buffer, outputs: readonly RustOutput[]): Buffer | null {
  const text = stderr.toString("utf8");
  if (!Buffer.from(text, "utf8").equals(stderr)) return null;
  if (text.includes(NUL)) return null;
  let out = text;
  for (const o of outputs) out = out.split(artifactField(o.written)).join(`"artifact":"${NUL}out:${o.role}${NUL}"`);
  return Buffer.from(out, "utf8");
}

export function fillStderrTemplate(stored: Buffer, outputs: readonly RustOutput[]): Buffer | null {
  const text = stored.toString("utf8");
  if (!text.includes(NUL)) return stored;
  const byRole = new Map(outputs.map((o) => [o.role, jsonString(o.written)]));
  let unknown = false;
  const filled = text.replace(PLACEHOLDER, (_m, role: string) => {
    const w = byRole.get(role);
    if (w === undefined) unknown = true;
    return w ?? "";
  });
  return unknown ? null : Buffer.from(filled, "utf8");
}

/** Drops the artifact notice for a dep-info file the user did not ask for. */
export function dropArtifactLines(stderr: Buffer, privatePath: string): Buffer {
  const needle = Buffer.from(artifactField(privatePath), "utf8").toString("latin1");
  const text = stderr.toString("latin1");
  if (!text.includes(needle)) return stderr;
  const kept = text.split("\n").filter((l) => !l.includes(needle));
  return Buffer.from(kept.join("\n"), "latin1");
}
