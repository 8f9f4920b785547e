// Names the files a rustc invocation writes, as rustc names them (`-C extra-filename`
// included), so a hit can write them where cargo looks for them.
import * as path from "node:path";
import type { RustInvocation } from "./args.ts";
import type { CrateType, EmitKind } from "./options.ts";

export interface RustOutput {
  /** Stable across trees: "link:rlib", "metadata", "dep-info", … */
  readonly role: string;
  /** As rustc writes it into the dep-info (out-dir as written joined with the file name). */
  readonly written: string;
  /** Absolute. */
  readonly path: string;
}

type TargetOs = "linux" | "none" | "wasm";

/** The target families whose file naming we know; null for the rest (not cached). */
export function targetOs(target: string | null, host: string): TargetOs | null {
  const t = target ?? host;
  if (t.endsWith(".json")) return null;
  if (t.startsWith("wasm")) return "wasm";
  if (t.includes("-linux")) return "linux";
  if (t.includes("-none")) return "none";
  return null;
}

function linkFileName(type: CrateType, stem: string, os: TargetOs): string | null {
  switch (type) {
    case "bin":
      return os === "wasm" ? `${stem}.wasm` : stem;
    case "lib":
    case "rlib":
      return `lib${stem}.rlib`;
    case "staticlib":
      return `lib${stem}.a`;
    case "proc-macro":
      return os === "linux" ? `lib${stem}.so` : null;
    case "dylib":
    case "cdylib":
      return null;
  }
}

const OTHER_EXTENSIONS: Readonly<Record<Exclude<EmitKind, "link" | "metadata">, string>> = {
  "dep-info": ".d",
  obj: ".o",
  asm: ".s",
  "llvm-ir": ".ll",
  "llvm-bc": ".bc",
  mir: ".mir",
  "thin-link-bitcode": ".indexing.o",
};

function joinWritten(dir: string | null, file: string): string {
  if (dir === null || dir === "") return file;
  return dir.endsWith("/") ? `${dir}${file}` : `${dir}/${file}`;
}

/** Every file the invocation writes, or null when rustc's naming is not one we can predict. */
export function expectedOutputs(inv: RustInvocation, cwd: string, host: string): RustOutput[] | null {
  const os = targetOs(inv.target, host);
  if (os === null) return null;
  const stem = `${inv.crateName}${inv.extraFilename}`;
  const out: RustOutput[] = [];
  const add = (role: string, written: string): void => {
    out.push({ role, written, path: path.resolve(cwd, written) });
  };
  for (const e of inv.emits) {
    if (e.kind === "link") {
      if (e.path !== null && inv.crateTypes.length > 1) return null;
      for (const t of inv.crateTypes) {
        const f = linkFileName(t, stem, os);
        if (f === null) return null;
        add(`link:${t === "lib" ? "rlib" : t}`, e.path ?? joinWritten(inv.outDir, f));
      }
    } else if (e.kind === "metadata") {
      add("metadata", e.path ?? joinWritten(inv.outDir, `lib${stem}.rmeta`));
    } else {
      add(e.kind, e.path ?? joinWritten(inv.outDir, `${stem}${OTHER_EXTENSIONS[e.kind]}`));
    }
  }
  const paths = out.map((o) => o.path);
  if (new Set(paths).size !== paths.length) return null;
  return out;
}
