// cargo's questions to rustc before it builds, answered by the daemon when the answer is
// provably the one rustc would give now: `rustc -vV` from the toolchain probe's own text, and
// the target-info probe (`rustc - --crate-name ___ --print=file-names … --print=cfg`, source
// from an empty stdin) from the first answer rustc gave to exactly those arguments. Each saves
// a rustc start (~50-60 ms here) per cargo build from a clean target. Both are still counted
// as the queries they are (`info-query`, `stdin-input`): nothing is compiled or stored.
import { readOption } from "../../compilers/rustc/args.ts";
import { rustcRunEnv } from "../../compilers/rustc/plan.ts";
import { stdinIsDevNull } from "../../platform/fsx.ts";
import { runCapture } from "../../platform/exec.ts";
import { sha256Hex } from "../../platform/hash.ts";
import type { CompileRequest } from "../../protocol/messages.ts";
import { describeOutcome, type Outcome, type UncacheableReason } from "../../stats/outcomes.ts";
import type { CompilerIdentity } from "../compiler-identity.ts";
import type { CompileReply, PipelineContext } from "../context.ts";
import { remember, remembered } from "../fingerprint-memo.ts";
import { isRustupProxy, isSysrootOwn, type RustToolchains, setsRustcVariables, type Toolchain } from "./toolchain.ts";

/** The spellings of `rustc --version --verbose`. */
const VERBOSE_VERSION = new Set(["-vV", "-Vv", "-V\u0000-v", "-v\u0000-V", "--version\u0000--verbose", "--verbose\u0000--version"]);

export function isVerboseVersion(args: readonly string[]): boolean {
  return VERBOSE_VERSION.has(args.join("\u0000"));
}

/** What the target-info probe may print: facts of the compiler and its built-in targets. */
const PRINTS = new Set(["file-names", "sysroot", "split-debuginfo", "crate-name", "cfg", "target-libdir"]);

/** Options (by the rustc option table's names) whose value only names things: a cfg, an edition, a lint. */
const NAMING_OPTIONS = new Set([
  "--cfg",
  "--edition",
  "--cap-lints",
  "-A",
  "--allow",
  "-W",
  "--warn",
  "--force-warn",
  "-D",
  "--deny",
  "-F",
  "--forbid",
]);

/**
 * `-C` settings a target-info probe may carry (cargo splices RUSTFLAGS in): explicit values,
 * none of which reads a file or the host. Not `llvm-args` (LLVM expands @files in it),
 * `codegen-backend` (a library to load), `profile-use`, `incremental` or any other.
 */
const CODEGEN = new Set([
  "opt-level",
  "debuginfo",
  "debug-assertions",
  "overflow-checks",
  "panic",
  "target-cpu",
  "target-feature",
  "relocation-model",
  "code-model",
  "force-frame-pointers",
  "force-unwind-tables",
  "lto",
  "codegen-units",
  "embed-bitcode",
  "strip",
  "split-debuginfo",
  "linker",
  "link-arg",
  "link-args",
  "link-dead-code",
  "prefer-dynamic",
  "rpath",
  "symbol-mangling-version",
  "metadata",
  "extra-filename",
]);

/**
 * When `args` (expanded) are a target-info probe whose answer can depend on nothing but the
 * toolchain and the arguments, the `--target` values it names; else null. Source `-`, only
 * known `--print` requests (none writing a file), and only options from a fixed list whose
 * values read neither a file nor the host: nothing naming `native` or `help` (which prints
 * the host's CPU), no `-Z`, no `--sysroot`, no search paths. A target other than the host may
 * be a spec file rustc finds by name (RUST_TARGET_PATH, the sysroot): the caller checks them.
 */
export function targetInfoProbeTargets(args: readonly string[]): string[] | null {
  if (!args.includes("-") || args.some((a) => a.includes("native") || a.includes("help"))) return null;
  let prints = 0;
  const targets: string[] = [];
  for (let i = 0; i < args.length; ) {
    const a = args[i] as string;
    if (a === "-") {
      i++;
      continue;
    }
    if (!a.startsWith("-")) return null;
    const r = readOption(args, i);
    if (typeof r === "string") return null;
    i += r.used;
    for (const { spec, name, value } of r.parsed) {
      const v = value ?? "";
      if (spec.role === "print" && PRINTS.has(v)) prints++;
      else if (spec.role === "target") targets.push(v);
      else if (spec.role === "codegen" && CODEGEN.has(v.split("=", 1)[0] as string)) continue;
      else if (spec.role !== "crate-name" && spec.role !== "crate-type" && spec.role !== "remap" && !NAMING_OPTIONS.has(name)) return null;
    }
  }
  return prints > 0 ? targets : null;
}

/** The toolchain, when the daemon may answer for it: its sysroot's own, unchanged, probed without RUSTC_* variables. */
async function answerable(toolchains: RustToolchains, req: CompileRequest, ident: CompilerIdentity): Promise<Toolchain | null> {
  // A proxy or shim is probed afresh on every call: asking it would only add a run.
  if (isRustupProxy(ident) || toolchains.knownForeign(ident, null)) return null;
  if (setsRustcVariables(req.env) || req.env.RUST_TARGET_PATH !== undefined) return null;
  const tc = await toolchains.identify(ident, null, req.env, req.cwd);
  if (!tc.ok || tc.value.versionText === null) return null;
  // Checked again now: a link on the way to the binary re-pointed to an identical copy would
  // keep the probe (same path, same content) and its sysroot.
  return isSysrootOwn(ident.path, tc.value.sysroot) ? tc.value : null;
}

function reply(ctx: PipelineContext, reason: UncacheableReason, exitCode: number, stdout: Buffer, stderr: Buffer): CompileReply {
  const outcome: Outcome = { kind: "uncacheable", reason };
  ctx.stats.record(outcome, "rust");
  return { kind: "result", exitCode, stdout, stderr, outcome: describeOutcome(outcome) };
}

/** `rustc -vV` answered with the toolchain probe's text; null: the client runs rustc. */
export async function answerVerboseVersion(
  toolchains: RustToolchains,
  req: CompileRequest,
  ident: CompilerIdentity,
  ctx: PipelineContext,
): Promise<CompileReply | null> {
  const tc = await answerable(toolchains, req, ident);
  if (tc === null || tc.versionText === null) return null;
  return reply(ctx, "info-query", 0, Buffer.from(tc.versionText, "utf8"), Buffer.alloc(0));
}

/**
 * The target-info probe (`args`: expanded) answered from what rustc printed the first time
 * it was asked exactly this, by this toolchain, in this directory, with these RUST*
 * variables and an empty stdin; the first time, the daemon runs it (stdin /dev/null, as the
 * client's) and keeps an answer that succeeded with nothing on stderr. Null: the client runs rustc.
 */
export async function answerTargetInfoProbe(
  toolchains: RustToolchains,
  req: CompileRequest,
  args: readonly string[],
  ident: CompilerIdentity,
  ctx: PipelineContext,
): Promise<CompileReply | null> {
  const targets = targetInfoProbeTargets(args);
  if (targets === null || !stdinIsDevNull(req.clientPid, req.cwd)) return null;
  const tc = await answerable(toolchains, req, ident);
  if (tc === null || targets.some((t) => t !== tc.host)) return null;
  const rustEnv = Object.keys(req.env)
    .filter((n) => n.startsWith("RUST"))
    .sort()
    .map((n) => `${n}=${req.env[n]}`);
  const name = `rust-target-info:${sha256Hex(JSON.stringify([tc.digest, ident.path, args, req.cwd, rustEnv]))}`;
  const kept = parseKept(remembered(name));
  if (kept !== null) return reply(ctx, "stdin-input", 0, kept, Buffer.alloc(0));
  // The arguments as keyed (argument files read once); an answer with anything on stderr is
  // not kept: a warning may depend on more than the key holds.
  const run = await runCapture([ident.path, ...args], { cwd: req.cwd, env: rustcRunEnv(req.env) });
  if (run.exitCode === 0 && run.stderr.length === 0) remember(name, JSON.stringify({ stdout: run.stdout.toString("base64") }));
  return reply(ctx, "stdin-input", run.exitCode, run.stdout, run.stderr);
}

function parseKept(text: string | null): Buffer | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as { stdout?: unknown };
    return typeof v.stdout === "string" ? Buffer.from(v.stdout, "base64") : null;
  } catch {
    return null;
  }
}
