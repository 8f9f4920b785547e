// Link outputs in the store: the role records what a file is and its mode bits, so a hit
// restores an executable as executable. Links are always delivered by copy: tools edit
// archives and executables in place (ar r, strip, objcopy), which must never reach a blob.
import * as fs from "node:fs";
import type { NewOutput, OutputRecord, Store } from "../../store/store.ts";

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

export type DeliveryFailure = "corrupt" | "missing" | "io";

/** Writes every output of an entry (side files first, the output last) with its mode. */
export function deliverLinkOutputs(store: Store, outputs: readonly OutputRecord[]): DeliveryFailure | null {
  for (const out of outputs) {
    const r = store.materialize(out, "copy");
    if (!r.ok) return r.error;
    const mode = modeOf(out.role);
    if (mode === null) continue;
    try {
      fs.chmodSync(out.path, mode);
    } catch {
      return "io";
    }
  }
  return null;
}
