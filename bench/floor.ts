// The floor under every zccache hit: what an exec costs, what the native launcher costs before
// it talks to the daemon, and the cheapest real round trip (a warm hit of an empty translation
// unit) through the launcher and through the TypeScript client it replaces on the hot path.
// The launcher has no request that reaches the daemon without compiling, so the round trip is
// a real compile request that the daemon answers from the cache.
import * as fs from "node:fs";
import * as path from "node:path";
import { linkOf } from "../tests/fixtures/elf.ts";
import { backdate, type Bench, hitCount, hyperfine, sh } from "./harness.ts";

export interface FloorResult {
  what: string;
  command: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
  verified: string;
}

export function measureFloor(b: Bench, runs: number): FloorResult[] {
  const dir = path.join(b.work, "floor");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "empty_main.c"), "int main(void) { return 0; }\n");
  fs.writeFileSync(path.join(dir, "empty.c"), "");
  backdate(path.join(dir, "empty.c"));
  if (sh(["cc", "-O2", "-o", "empty", "empty_main.c"], b.env, dir).code !== 0) throw new Error("cannot build the empty program");
  // The same program linked statically, against glibc and (where installed) musl: what the
  // launcher's own start-up costs with each C library.
  const staticGlibc = sh(["cc", "-O2", "-static", "-o", "empty-static", "empty_main.c"], b.env, dir).code === 0;
  const staticMusl = Bun.which("musl-gcc") !== null && sh(["musl-gcc", "-O2", "-static", "-o", "empty-musl", "empty_main.c"], b.env, dir).code === 0;
  const compile = (out: string): string => `gcc -O2 -c empty.c -o ${out}`;
  sh(["sh", "-c", compile("bare.o")], b.env, dir);
  const reference = fs.readFileSync(path.join(dir, "bare.o"));
  const core = path.join(path.dirname(b.zccache), "zccache-core");
  const hasLauncher = fs.existsSync(core);
  const results: FloorResult[] = [];
  /** envVar: one extra NAME=value for this command only, shown in the table. */
  const row = (what: string, command: string, tool: "zccache" | "ccache" | null, out: string | null, envVar?: [string, string]): void => {
    const env = envVar === undefined ? b.env : { ...b.env, [envVar[0]]: envVar[1] };
    if (tool !== null) sh(["sh", "-c", command], env, dir);
    const before = tool === null ? 0 : hitCount(b, tool);
    const t = hyperfine(b, command, { runs, cwd: dir, env });
    const checks: string[] = [];
    if (out !== null) checks.push(fs.readFileSync(path.join(dir, out)).equals(reference) ? "object identical" : "OBJECT DIFFERS");
    if (tool !== null) checks.push(`${hitCount(b, tool) - before}/${runs + 3} hits`);
    const shown = `${envVar === undefined ? "" : `${envVar.join("=")} `}${command}`.replaceAll(`${path.dirname(b.zccache)}/`, "dist/");
    results.push({ what, command: shown, medianMs: t.median, minMs: t.min, maxMs: t.max, verified: checks.join("; ") });
  };
  try {
    row("exec of an empty C program (process floor)", "./empty", null, null);
    if (staticGlibc) row("exec of an empty C program, static glibc", "./empty-static", null, null);
    if (staticMusl) row("exec of an empty C program, static musl", "./empty-musl", null, null);
    if (hasLauncher) {
      // A launcher test hook: derives and prints the socket path, never connects.
      row(`native launcher alone (${linkOf(b.zccache)}): start, socket path derived, no connect`, b.zccache, null, null, [
        "ZCCACHE_LAUNCHER_PRINT_ENDPOINT",
        "1",
      ]);
    }
    row(
      hasLauncher ? "warm hit of an empty file: native launcher + daemon" : "warm hit of an empty file: zccache (no native launcher built)",
      `${b.zccache} ${compile("zc.o")}`,
      "zccache",
      "zc.o",
    );
    if (hasLauncher) row("warm hit of an empty file: TypeScript client + daemon (no launcher)", `${core} ${compile("core.o")}`, "zccache", "core.o");
    row("warm hit of an empty file: ccache", `ccache ${compile("cc.o")}`, "ccache", "cc.o");
  } finally {
    sh([b.zccache, "stop"], b.env);
  }
  return results;
}
