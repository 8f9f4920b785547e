// Link outputs in the store: the role records what a file is and its mode bits, so a hit
// restores an executable as executable. Links are always delivered by copy: tools edit
// archives and executables in place (ar r, strip, objcopy), which must never reach a blob.
import * as fs from "node:fs";
import { err, type Result } from "../../platform/result.ts";
import type { MaterializeFailure, NewOutput, OutputRecord, Store } from "../../store/store.ts";

export type LinkOutputKind = "output" | "side" | "deploy";

const MODE_MASK = 0o7777;

export function linkOutput(kind: LinkOutputKind, file: string): NewOutput {
  const mode = fs.statSync(file).mode & MODE_MASK;
  return { role: `${kind}:${mode.toString(8)}`, path: file };
}

function modeOf(role: string): number | null {
  const m = /^(?:output|side|deploy):([0-7]{1,4})$/.exec(role);
  return m === null ? null : parseInt(m[1] as string, 8);
}

/** Writes one output of an entry by copy, with the mode its role records. */
export async function deliverLinkOutput(
  store: Store,
  out: OutputRecord,
  dest: string,
): Promise<Result<void, MaterializeFailure>> {
  const r = await store.materialize(out, dest, "copy");
  if (!r.ok) return r;
  const mode = modeOf(out.role);
  if (mode === null) return r;
  try {
    fs.chmodSync(dest, mode);
    return r;
  } catch {
    return err("io");
  }
}

/** The main output's role (the one a link or archive names with -o or as its archive). */
export function isMainOutput(role: string): boolean {
  return role.startsWith("output:");
}
