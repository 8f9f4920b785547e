// The compile hot path: one request to the daemon, replay what it returns, or run the
// compiler ourselves. Imports only protocol/ and client/ modules.
import { endpointFor } from "../protocol/endpoint.ts";
import type { CompileRequest } from "../protocol/messages.ts";
import { PRODUCT_VERSION } from "../protocol/version.ts";
import { replaceSilentDaemon, requestWithStart } from "./connect.ts";
import { runLocal } from "./local.ts";
import { LAUNCHER_HANDOVER, SELF_EXE, SELF_EXES } from "./self-exe.ts";

type Env = Record<string, string | undefined>;

function parseBoolEnv(value: string | undefined): boolean | "invalid" {
  if (value === undefined || value === "") return false;
  const v = value.toLowerCase();
  if (v === "1" || v === "true") return true;
  if (v === "0" || v === "false") return false;
  return "invalid";
}

async function writeAll(fd: 1 | 2, b64: string): Promise<void> {
  if (b64 === "") return;
  const bytes = Buffer.from(b64, "base64");
  await Bun.write(fd === 1 ? Bun.stdout : Bun.stderr, bytes);
}

/**
 * `symlinkMode` means we were invoked under a compiler's name: the real compiler is the
 * next one of that name on PATH, which the daemon (or the local fallback) resolves.
 */
export async function compileMain(compiler: string, args: string[], symlinkMode: boolean): Promise<number> {
  const env = process.env as Env;
  // Started by a compiler zccache ran (another wrapper on PATH, a second copy of us): one
  // more round through the daemon could only lead back here.
  if (env.ZCCACHE_REENTERED) return runFallback(compiler, args, env, true);
  const disable = parseBoolEnv(env.ZCCACHE_DISABLE);
  if (disable === "invalid") {
    process.stderr.write(`zccache: ZCCACHE_DISABLE must be 1, 0, true or false (got '${env.ZCCACHE_DISABLE}'); not caching\n`);
  }
  if (disable !== false) return runFallback(compiler, args, env, symlinkMode);

  const cwd = process.cwd();
  const ep = endpointFor(env, cwd);
  // The launcher already asked the daemon: asking again would count the compile twice, or
  // wait out a second deadline on a daemon that is not answering.
  if (LAUNCHER_HANDOVER?.kind === "run-local") return runFallback(compiler, args, env, symlinkMode);
  if (LAUNCHER_HANDOVER?.kind === "silent") {
    await replaceSilentDaemon(ep, env, LAUNCHER_HANDOVER.sentAtMs);
    return runFallback(compiler, args, env, symlinkMode);
  }
  const request: CompileRequest = {
    type: "compile",
    clientVersion: PRODUCT_VERSION,
    compiler,
    args,
    cwd,
    env: env as Record<string, string>,
    clientPid: process.pid,
    selfExe: symlinkMode ? SELF_EXE : undefined,
    sessionId: env.ZCCACHE_SESSION_ID || undefined,
  };
  const r = await requestWithStart(ep, env, request);
  if (r.ok) {
    const resp = r.response;
    if (resp.type === "compile-result") {
      await writeAll(1, resp.stdout);
      await writeAll(2, resp.stderr);
      return resp.exitCode;
    }
    if (resp.type === "run-local" && resp.compilerPath) {
      return runLocal(resp.compilerPath, args, env);
    }
  }
  return runFallback(compiler, args, env, symlinkMode);
}

/**
 * Runs the real compiler ourselves. `skipWrappers` (symlink mode, or re-entered): the
 * compiler is the next one of that name on PATH that is neither zccache in any form nor a
 * ccache/sccache masquerade link, by the rule the daemon uses too.
 */
async function runFallback(compiler: string, args: string[], env: Env, skipWrappers: boolean): Promise<number> {
  if (skipWrappers && !compiler.includes("/")) {
    const { findCompiler, skipRuleFor } = await import("../platform/compiler-path.ts");
    const real = findCompiler(compiler, process.cwd(), env.PATH ?? "", skipRuleFor(SELF_EXES, env));
    if (real === null) {
      process.stderr.write(`zccache: no '${compiler}' on PATH other than zccache or a compiler cache\n`);
      return 127;
    }
    return runLocal(real, args, env);
  }
  return runLocal(compiler, args, env);
}
