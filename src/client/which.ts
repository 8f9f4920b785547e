// PATH lookup that skips zccache itself, for symlink mode ("gcc" -> zccache).
import * as fs from "node:fs";
import * as path from "node:path";

function realOrNull(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

export function findCompilerSkippingSelf(name: string, pathVar: string, selfExe: string): string | null {
  const self = realOrNull(selfExe);
  for (const dir of pathVar.split(":")) {
    if (dir === "") continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
    } catch {
      continue;
    }
    const st = fs.statSync(candidate, { throwIfNoEntry: false });
    if (!st?.isFile()) continue;
    if (self !== null && realOrNull(candidate) === self) continue;
    return candidate;
  }
  return null;
}
