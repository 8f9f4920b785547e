// PATH lookup that skips zccache itself, for symlink mode ("gcc" -> zccache).
// Same-file checks compare device and inode, so symlinks and hard links to us are skipped.

async function fileId(p: string): Promise<string | null> {
  try {
    const st = await Bun.file(p).stat();
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

export async function findCompilerSkippingSelf(name: string, pathVar: string, selfExe: string): Promise<string | null> {
  const self = await fileId(selfExe);
  for (const dir of pathVar.split(":")) {
    const candidate = Bun.which(name, { PATH: dir === "" ? "." : dir });
    if (candidate === null) continue;
    if (self !== null && (await fileId(candidate)) === self) continue;
    return candidate;
  }
  return null;
}
