// Separates gcc/clang `-H` output (". /path/header.h" lines, one dot per include depth, and
// gcc's trailing "Multiple include guards may be useful for:" list) from the compiler's real
// stderr, and rebuilds who included whom: a quote include searches the includer's directory
// first, so that directory is where a new file could shadow the header.

export interface TracedHeader {
  readonly path: string;
  /** Paths of the files that included it; "" stands for the main source file. */
  readonly includers: ReadonlySet<string>;
}

export interface HeaderTrace {
  readonly headers: TracedHeader[];
  readonly stderr: Buffer;
}

const TRACE_LINE = /^(\.+) (.+)$/;
const GUARDS_LINE = "Multiple include guards may be useful for:";

/**
 * `isFile` confirms a trace line: clang prints the trace into the same stderr as its
 * diagnostics, which quote source lines verbatim, and a quoted line may start with ". ".
 */
export function splitHeaderTrace(stderr: Buffer, isFile: (p: string) => boolean = () => true): HeaderTrace {
  // latin1 maps bytes one-to-one, so the kept stderr is byte-identical to what was printed.
  const text = stderr.toString("latin1");
  const lines = text.split("\n");
  const byPath = new Map<string, Set<string>>();
  const order: string[] = [];
  const stack: string[] = [];
  const kept: string[] = [];
  let inGuards = false;
  for (const line of lines) {
    const m = TRACE_LINE.exec(line);
    if (m && isFile(Buffer.from(m[2] as string, "latin1").toString("utf8"))) {
      const depth = (m[1] as string).length;
      const p = Buffer.from(m[2] as string, "latin1").toString("utf8");
      stack.length = depth - 1;
      const includer = depth === 1 ? "" : (stack[depth - 2] ?? "");
      stack[depth - 1] = p;
      let set = byPath.get(p);
      if (set === undefined) {
        set = new Set();
        byPath.set(p, set);
        order.push(p);
      }
      set.add(includer);
      inGuards = false;
      continue;
    }
    if (line === GUARDS_LINE) {
      inGuards = true;
      continue;
    }
    if (inGuards && byPath.has(Buffer.from(line, "latin1").toString("utf8"))) continue;
    inGuards = false;
    kept.push(line);
  }
  return {
    headers: order.map((p) => ({ path: p, includers: byPath.get(p) ?? new Set() })),
    stderr: Buffer.from(kept.join("\n"), "latin1"),
  };
}
