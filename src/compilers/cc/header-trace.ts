// Separates gcc/clang `-H` output (". /path/header.h" lines and the trailing
// "Multiple include guards may be useful for:" list) from the compiler's real stderr.
// Used only when the user's -MMD depfile leaves out system headers we must track.

export interface HeaderTrace {
  readonly headers: string[];
  readonly stderr: Buffer;
}

const TRACE_LINE = /^\.+ (.+)$/;
const GUARDS_LINE = "Multiple include guards may be useful for:";

export function splitHeaderTrace(stderr: Buffer): HeaderTrace {
  // latin1 maps bytes one-to-one, so the kept stderr is byte-identical to what was printed.
  const text = stderr.toString("latin1");
  const lines = text.split("\n");
  const headers: string[] = [];
  const seen = new Set<string>();
  const kept: string[] = [];
  let inGuards = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const m = TRACE_LINE.exec(line);
    if (m) {
      const p = m[1] as string;
      if (!seen.has(p)) {
        seen.add(p);
        headers.push(Buffer.from(p, "latin1").toString("utf8"));
      }
      inGuards = false;
      continue;
    }
    if (line === GUARDS_LINE) {
      inGuards = true;
      continue;
    }
    if (inGuards && seen.has(line)) continue;
    inGuards = false;
    kept.push(line);
  }
  return { headers, stderr: Buffer.from(kept.join("\n"), "latin1") };
}
