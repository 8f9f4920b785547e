// Entry point of the single zccache binary: compile wrapper, management commands, or daemon.
// Only the compile path is imported eagerly; everything else loads on demand.
import { compileMain } from "./client/compile.ts";

const SUBCOMMANDS = new Set([
  "daemon",
  "start",
  "stop",
  "status",
  "clear",
  "stats",
  "version",
  "help",
  "config",
  "session-start",
  "session-stats",
  "session-end",
  "explain",
  "report",
  "doctor",
  "verify",
]);

function baseName(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? p : p.slice(i + 1);
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const invokedAs = baseName(process.argv0);
  if (invokedAs !== "zccache" && !invokedAs.startsWith("zccache")) {
    return compileMain(invokedAs, argv, true);
  }
  const first = argv[0];
  if (first === undefined) {
    const { printHelp } = await import("./client/commands.ts");
    printHelp(process.stderr);
    return 2;
  }
  if (first === "daemon") {
    const { daemonMain } = await import("./daemon/main.ts");
    return daemonMain(argv.slice(1));
  }
  if (SUBCOMMANDS.has(first) || first.startsWith("-")) {
    const { commandMain } = await import("./client/commands.ts");
    return commandMain(argv);
  }
  return compileMain(first, argv.slice(1), false);
}

const code = await main();
process.exit(code);
