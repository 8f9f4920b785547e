// cargo's questions to rustc before it builds, answered by the daemon when the answer is
// provably the one rustc would give now: `rustc -vV` from the toolchain probe's own text, and
// the target-info probe (`rustc - --crate-name ___ --print=file-names … --print=cfg`, source
// from an empty stdin) from the first answer rustc gave to exactly those arguments. Each saves
// a rustc start (~50-60 ms here) per cargo build from a clean target. Both are still counted
// as the queries they are (`info-query`, `stdin-input`): nothing is compiled or stored.
import * as fs from "node:fs";
import { RUN_ENV_REMOVED } from "../../compilers/rustc/plan.ts";
import { runCapture } from "../../platform/exec.ts";
import { sha256Hex } from "../../platform/hash.ts";
import type { CompileRequest } from "../../protocol/messages.ts";
import { describeOutcome, type Outcome, type UncacheableReason } from "../../stats/outcomes.ts";
import type { CompilerIdentity } from "../compiler-identity.ts";
import type { CompileReply, PipelineContext } from "../context.ts";
import { remember, remembered } from "../fingerprint-memo.ts";
import { isRustupProxy, type RustToolchains, setsRustcVariables, type Toolchain } from "./toolchain.ts";

/** The spellings of `rustc --version --verbose`. */
const VERBOSE_VERSION = new Set(["-vV", "-Vv", "-V\u0000-v", "-v\u0000-V", "--version\u0000--verbose", "--verbose\u0000--version"]);

export function isVerboseVersion(args: readonly string[]): boolean {
  return VERBOSE_VERSION.has(args.join("\u0000"));
}

/** What the target-info probe may print: facts of the compiler and its built-in targets. */
const PRINTS = new Set(["file-names", "sysroot", "split-debuginfo", "crate-name", "cfg", "target-libdir"]);

/**
 * When `args` (expanded) are a target-info probe whose answer can depend on nothing but the
 * toolchain and the arguments, the `--target` values it names; else null. Source `-`, only
 * known `--print` requests (none writing a file), and nothing that reads the host or a file:
 * no `native` CPU or features, no `--sysroot`, no `-Z`. A target other than the host may be
 * a spec file rustc finds by name (RUST_TARGET_PATH, the sysroot): the caller checks them.
 */
export function targetInfoProbeTargets(args: readonly string[]): string[] | null {
  if (!args.includes("-")) return null;
  let prints = 0;
  const targets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a.includes("native") || a === "--sysroot" || a.startsWith("--sysroot=") || a.startsWith("-Z")) return null;
    if (a === "--print" || a.startsWith("--print=")) {
      const v = a === "--print" ? args[++i] : a.slice("--print=".length);
      if (v === undefined || !PRINTS.has(v)) return null;
      prints++;
    }
    if (a === "--target" || a.startsWith("--target=")) {
      const v = a === "--target" ? args[++i] : a.slice("--target=".length);
      if (v === undefined || v.startsWith("-")) return null;
      targets.push(v);
    }
  }
  return prints > 0 ? targets : null;
}

/** Whether another process's stdin is /dev/null (what cargo gives its probes), from its /proc fd link. */
function stdinIsNull(pid: number): boolean {
  try {
    const fd0 = fs.statSync(`/proc/${pid}/fd/0`);
    const devNull = fs.statSync("/dev/null");
    return fd0.isCharacterDevice() && fd0.rdev === devNull.rdev;
  } catch {
    return false;
  }
}

/** The toolchain, when the daemon may answer for it: its sysroot's own, unchanged, probed without RUSTC_* variables. */
async function answerable(toolchains: RustToolchains, req: CompileRequest, ident: CompilerIdentity): Promise<Toolchain | null> {
  // A proxy or shim is probed afresh on every call: asking it would only add a run.
  if (isRustupProxy(ident) || toolchains.knownForeign(ident, null)) return null;
  if (setsRustcVariables(req.env) || req.env.RUST_TARGET_PATH !== undefined) return null;
  const tc = await toolchains.identify(ident, null, req.env, req.cwd);
  return tc.ok && tc.value.versionText !== null ? tc.value : null;
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
 * client's) and keeps a successful answer. Null: the client runs rustc.
 */
export async function answerTargetInfoProbe(
  toolchains: RustToolchains,
  req: CompileRequest,
  args: readonly string[],
  ident: CompilerIdentity,
  ctx: PipelineContext,
): Promise<CompileReply | null> {
  const targets = targetInfoProbeTargets(args);
  if (targets === null || !stdinIsNull(req.clientPid)) return null;
  const tc = await answerable(toolchains, req, ident);
  if (tc === null || targets.some((t) => t !== tc.host)) return null;
  const rustEnv = Object.keys(req.env)
    .filter((n) => n.startsWith("RUST"))
    .sort()
    .map((n) => `${n}=${req.env[n]}`);
  const name = `rust-target-info:${sha256Hex(JSON.stringify([tc.digest, ident.path, args, req.cwd, rustEnv]))}`;
  const kept = parseKept(remembered(name));
  if (kept !== null) return reply(ctx, "stdin-input", 0, kept.stdout, kept.stderr);
  const runEnv: Record<string, string> = { ...req.env };
  for (const v of RUN_ENV_REMOVED) delete runEnv[v];
  const run = await runCapture([ident.path, ...req.args], { cwd: req.cwd, env: runEnv });
  if (run.exitCode === 0) remember(name, JSON.stringify({ stdout: run.stdout.toString("base64"), stderr: run.stderr.toString("base64") }));
  return reply(ctx, "stdin-input", run.exitCode, run.stdout, run.stderr);
}

function parseKept(text: string | null): { stdout: Buffer; stderr: Buffer } | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as { stdout?: unknown; stderr?: unknown };
    if (typeof v.stdout !== "string" || typeof v.stderr !== "string") return null;
    return { stdout: Buffer.from(v.stdout, "base64"), stderr: Buffer.from(v.stderr, "base64") };
  } catch {
    return null;
  }
}
