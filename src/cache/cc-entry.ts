// What a C/C++ entry records beyond the common fields: the binding of an entry that may only
// serve its own tree and output names, and the user's depfile as a template.
import { type DepfileTemplate, isDepfileTemplate } from "../compilers/cc/depfile-template.ts";
import type { StoredEntry } from "../store/store.ts";

export interface CcEntryFields {
  /** bindingOf(cwd, logicalCwd, args) of the compile that stored it, or placeBindingOf(cwd, logicalCwd); absent: any tree, any output name. */
  readonly binding?: string;
  /** The user's depfile, rendered for the job's targets and tree on a hit. */
  readonly ccDepfile?: DepfileTemplate;
  /** stdout/stderr hold base-relative paths as placeholders (cc-relocation.ts: renderStdio). */
  readonly ccStdioTemplate?: true;
  /** Search directories that went through a symlink, and where they led (recorded paths). */
  readonly ccDirTargets?: readonly (readonly [dir: string, target: string])[];
}

/** The C/C++ fields of an entry read back; null when they are malformed (never used then). */
export function ccFieldsOf(e: StoredEntry): CcEntryFields | null {
  const v = e as StoredEntry & { binding?: unknown; ccDepfile?: unknown; ccStdioTemplate?: unknown; ccDirTargets?: unknown };
  if (v.binding !== undefined && typeof v.binding !== "string") return null;
  if (v.ccDepfile !== undefined && !isDepfileTemplate(v.ccDepfile)) return null;
  if (v.ccStdioTemplate !== undefined && v.ccStdioTemplate !== true) return null;
  const targets = v.ccDirTargets;
  if (targets !== undefined && !(Array.isArray(targets) && targets.every((t) => Array.isArray(t) && t.length === 2 && t.every((x) => typeof x === "string")))) {
    return null;
  }
  return {
    ...(v.binding === undefined ? {} : { binding: v.binding }),
    ...(v.ccDepfile === undefined ? {} : { ccDepfile: v.ccDepfile }),
    ...(v.ccStdioTemplate === true ? { ccStdioTemplate: true as const } : {}),
    ...(targets === undefined ? {} : { ccDirTargets: targets as [string, string][] }),
  };
}
