// Turns a link or archive command line into everything a lookup and a miss need: the key,
// the files that must be hashed, how the miss learns what the linker read, and hints.
import * as fs from "node:fs";
import { splitCommandLine } from "../../platform/command-line.ts";
import * as path from "node:path";
import { classifyArchive } from "../../compilers/link/archiver.ts";
import { classifyDriverLink, classifyLinkerLink } from "../../compilers/link/driver-args.ts";
import type { ArchiveInvocation, LinkHint, LinkInvocation } from "../../compilers/link/invocation.ts";
import { linkKeyFields } from "../../compilers/link/key.ts";
import { replaceableOutput } from "../../platform/fsx.ts";
import { BASE_RELATIVE, encodePath, relativeToCwd } from "../../platform/relative-paths.ts";
import { searchDir } from "../../compilers/link/search.ts";
import { expandResponseFiles, splitResponseFile } from "../../compilers/cc/response-files.ts";
import type { CompilerFamily } from "../../compilers/family.ts";
import type { CompileRequest } from "../../protocol/messages.ts";
import type { UncacheableReason } from "../../stats/outcomes.ts";
import type { CompilerIdentity } from "../compiler-identity.ts";
import type { PipelineContext } from "../context.ts";
import { type CacheKey, cacheKey } from "../key.ts";
import { archiverDeterministicByDefault, driverFacts, linkerFacts, targetArgs } from "./toolchain.ts";

/** How a miss learns every file the link read. */
export type DepSource =
  /** The linker's --dependency-file: ours (added to the command) or the user's own. */
  | { readonly kind: "depfile"; readonly addArgs: (file: string) => string[]; readonly userFile: string | null }
  /** lld's --verbose "Loading:" log (wasm-ld has no --dependency-file). */
  | { readonly kind: "verbose"; readonly addArgs: readonly string[] }
  /** ar reads exactly the files it is given: all of them are in the key. */
  | { readonly kind: "none" };

export interface KeyInput {
  readonly path: string;
  readonly hash: string;
}

export interface LinkPlan {
  readonly inv: LinkInvocation | ArchiveInvocation;
  /** The arguments after response-file expansion, as in the key. */
  readonly args: readonly string[];
  readonly outputAbs: string;
  readonly key: CacheKey;
  readonly keyInputs: readonly KeyInput[];
  readonly hints: readonly LinkHint[];
  readonly deps: DepSource;
  /** Toolchain files (the linker a driver runs, collect2, plugins) recorded as dependencies. */
  readonly toolFiles: readonly string[];
  /** Directories where a new library named by -l would change the link. */
  readonly probeDirs: readonly string[];
  /** ZCCACHE_LINK_DEPLOY_CMD as words (split like a shell's simple command), or null. */
  readonly deploy: readonly string[] | null;
  /** Why ZCCACHE_LINK_DEPLOY_CMD could not be split (an unterminated quote), or null. */
  readonly deployProblem: string | null;
  /**
   * The output's name is not in the key (an ELF link does not record its own name); an
   * entry whose miss also wrote side files next to it is then bound to its output path.
   */
  readonly nameFree: boolean;
}

export type Prepared =
  | { readonly kind: "plan"; readonly plan: LinkPlan }
  | { readonly kind: "run-local"; readonly reason: UncacheableReason; readonly detail: string };

const local = (reason: UncacheableReason, detail: string): Prepared => ({ kind: "run-local", reason, detail });

const WASM_LD = /^(?:.*-)?wasm-ld(?:-\d+(?:\.\d+)*)?$/;

function classify(family: CompilerFamily, invokedName: string, args: readonly string[], env: Readonly<Record<string, string>>) {
  switch (family) {
    case "archiver":
      return classifyArchive(args);
    case "linker":
      return classifyLinkerLink(args, WASM_LD.test(invokedName));
    case "emcc":
      // emcc appends EMCC_CFLAGS to its command line: classify what it will really see.
      return classifyDriverLink([...args, ...splitResponseFile(env.EMCC_CFLAGS ?? "")], family);
    case "gcc":
    case "clang":
      return classifyDriverLink(args, family);
    case "rustc":
      return null;
  }
}

/**
 * `ar` arguments for a key that any tree and any archive name share: the archive's name left
 * out, member paths under a base dir relative to the cwd (a member is named by its basename).
 */
function portableArchiveArgs(args: readonly string[], archive: string, cwd: string, baseDirs: readonly string[]): string[] {
  let named = false;
  // The P modifier stores members under their paths as given: those stay as written.
  const fullPaths = args.slice(0, args.indexOf(archive)).some((a) => /^-?[A-Za-z]*P[A-Za-z]*$/.test(a));
  return args.map((a) => {
    if (!named && a === archive) {
      named = true;
      return "\u0000archive";
    }
    const rel = fullPaths ? null : relativeToCwd(a, cwd, baseDirs);
    return rel === null ? a : BASE_RELATIVE + rel;
  });
}

/** Options after which a link may write its output's name into it or beside it. */
const NAME_SENSITIVE_LINK = /^(-flto|-save-temps|-fprofile|--coverage|-coverage|-gsplit-dwarf)/;

/**
 * The arguments of a plain ELF link with its output's name left out, or null when the name
 * may reach the result (emcc's .js names its .wasm; LTO; a deploy hook names files after it).
 */
function nameFreeLinkArgs(args: readonly string[], inv: LinkInvocation, deploy: readonly string[] | null): string[] | null {
  if (deploy !== null || (inv.tool.kind !== "driver" && inv.tool.kind !== "ld")) return null;
  if (args.some((a) => NAME_SENSITIVE_LINK.test(a))) return null;
  const placeholder = "\u0000output";
  let replaced = 0;
  const out = args.map((a, i) => {
    const prev = args[i - 1];
    if ((prev === "-o" || prev === "--output") && a === inv.output) {
      replaced++;
      return placeholder;
    }
    for (const form of ["-o", "--output="]) {
      if (a === form + inv.output && a !== form) {
        replaced++;
        return form + placeholder;
      }
    }
    return a;
  });
  return replaced === 1 ? out : null;
}

export async function prepareLink(
  req: CompileRequest,
  ident: CompilerIdentity,
  family: CompilerFamily,
  args: readonly string[],
  ctx: PipelineContext,
): Promise<Prepared> {
  const { cwd, env } = req;
  const invokedName = path.basename(req.compiler);
  let expanded = args;
  if (family === "archiver" || family === "linker") {
    const r = expandResponseFiles(args, cwd);
    if (!r.ok) return local("too-hard", r.error);
    expanded = r.value.args;
  }
  const inv = classify(family, invokedName, expanded, env);
  if (inv === null) return local("too-hard", "not a link tool");
  if (inv.kind === "not-cacheable") return local(inv.reason, inv.detail);

  const keyInputs: KeyInput[] = [];
  for (const written of inv.inputs) {
    const abs = path.resolve(cwd, written);
    const st = fs.statSync(abs, { throwIfNoEntry: false });
    if (st === undefined) return local("missing-input", written);
    if (!st.isFile()) return local("too-hard", `input ${written} is not a file`);
    const hash = ctx.files.hash(abs);
    if (hash === null) return local("missing-input", written);
    keyInputs.push({ path: abs, hash });
  }
  if (inv.kind === "link") {
    // -R file reads symbols from the file; -R dir is only an rpath.
    for (const written of inv.maybeInputs) {
      const abs = path.resolve(cwd, written);
      const hash = ctx.files.hash(abs);
      if (hash !== null) keyInputs.push({ path: abs, hash });
    }
  }
  if (family === "emcc" && env.EM_CONFIG !== undefined) {
    const abs = path.resolve(cwd, env.EM_CONFIG);
    keyInputs.push({ path: abs, hash: ctx.files.hash(abs) ?? "absent" });
  }

  const outputAbs = path.resolve(cwd, inv.kind === "archive" ? inv.archive : inv.output);
  // /dev/null, a fifo, or an input as the output: the tool's business, never ours to replace.
  const sideNamed = inv.kind === "link" ? inv.sideOutputs.map((o) => path.resolve(cwd, o)) : [];
  if ([outputAbs, ...sideNamed].some((o) => !replaceableOutput(o) || (inv.kind === "link" && keyInputs.some((i) => i.path === o)))) {
    return local("special-output", inv.kind === "archive" ? inv.archive : inv.output);
  }
  let priorOutput = "";
  const hints: LinkHint[] = [];
  let deps: DepSource = { kind: "none" };
  const toolFiles: string[] = [];
  const probeDirs: string[] = [];
  let deploy: string[] | null = null;
  let deployProblem: string | null = null;
  let deployIdentity = "";

  if (inv.kind === "archive") {
    // r and q update an existing archive: what it holds now is an input.
    const st = fs.statSync(outputAbs, { throwIfNoEntry: false });
    if (st !== undefined && !st.isFile()) return local("too-hard", `${inv.archive} is not a file`);
    priorOutput = st === undefined ? "absent" : (ctx.files.hash(outputAbs) ?? "absent");
    const deterministic =
      inv.determinism === "deterministic" ||
      (inv.determinism === "tool-default" && (await archiverDeterministicByDefault(ident.path, ident.hash, env)));
    if (!deterministic) hints.push("ar-not-deterministic");
  } else {
    hints.push(...inv.hints);
    const split = splitCommandLine(env.ZCCACHE_LINK_DEPLOY_CMD ?? "");
    if (!split.ok) deployProblem = split.error;
    else if (split.value.length > 0) {
      deploy = split.value;
      deployIdentity = deployHookIdentity(split.value, path.dirname(outputAbs), env, ctx);
    }
    for (const d of inv.libDirs) probeDirs.push(searchDir(d, cwd, inv.sysroot));
    switch (inv.tool.kind) {
      case "driver": {
        // gcc searches LIBRARY_PATH, then LPATH (a native gcc's synonym), after the -L directories.
        for (const v of ["LIBRARY_PATH", "LPATH"]) for (const d of (env[v] ?? "").split(":")) if (d !== "") probeDirs.push(path.resolve(cwd, d));
        const facts = await driverFacts(ident.path, ident.hash, inv.tool.family, inv.tool.fuseLd, targetArgs(expanded), env, req.selfExe ?? null, cwd);
        if (facts.linker === null) return local("too-hard", "cannot find the driver's linker");
        const linkerHash = ctx.files.hash(facts.linker);
        if (linkerHash === null) return local("too-hard", "cannot read the driver's linker");
        const lf = await linkerFacts(facts.linker, linkerHash, env);
        if (!lf.writesDepfile && inv.userDepfile === null) return local("too-hard", "the linker writes no dependency file");
        toolFiles.push(facts.linker, ...facts.helpers);
        // Which programs the driver runs is part of the key, not only that they stay as they were.
        keyInputs.push({ path: facts.linker, hash: linkerHash });
        for (const h of facts.helpers) keyInputs.push({ path: h, hash: ctx.files.hash(h) ?? "absent" });
        probeDirs.push(...facts.libraryDirs, ...lf.searchDirs.map((d) => searchDir(d, cwd, inv.sysroot)));
        deps = { kind: "depfile", addArgs: (f) => [`-Wl,--dependency-file=${f}`], userFile: inv.userDepfile };
        break;
      }
      case "ld": {
        const lf = await linkerFacts(ident.path, ident.hash, env);
        if (!lf.writesDepfile && inv.userDepfile === null) return local("too-hard", "the linker writes no dependency file");
        probeDirs.push(...lf.searchDirs.map((d) => searchDir(d, cwd, inv.sysroot)));
        deps = { kind: "depfile", addArgs: (f) => [`--dependency-file=${f}`], userFile: inv.userDepfile };
        break;
      }
      case "wasm-ld":
        deps = { kind: "verbose", addArgs: inv.userVerbose ? [] : ["--verbose"] };
        break;
      case "emcc":
        deps = { kind: "verbose", addArgs: inv.userVerbose ? [] : ["-Wl,--verbose"] };
        break;
    }
  }

  const nameFree = inv.kind === "link" ? nameFreeLinkArgs(expanded, inv, deploy) : null;
  const key = cacheKey(
    "link",
    linkKeyFields({
      toolHash: ident.hash,
      invokedName,
      kind: inv.kind,
      // An archive holds its members' names and bytes, not its own name or where it is.
      cwd: inv.kind === "archive" ? null : cwd,
      args: inv.kind === "archive" ? portableArchiveArgs(expanded, inv.archive, cwd, ctx.relocation.baseDirs) : (nameFree ?? expanded),
      env,
      inputs: inv.kind === "archive" ? keyInputs.map((i) => ({ ...i, path: encodePath(i.path, cwd, ctx.relocation.baseDirs) })) : keyInputs,
      priorOutput,
      deployCmd: deploy === null ? (deployProblem === null ? "" : `unusable: ${deployProblem}`) : deployIdentity,
    }),
  );
  return {
    kind: "plan",
    plan: {
      inv,
      args: expanded,
      outputAbs,
      key,
      keyInputs,
      hints,
      deps,
      toolFiles,
      probeDirs: [...new Set(probeDirs)],
      deploy,
      deployProblem,
      nameFree: inv.kind === "archive" || nameFree !== null,
    },
  };
}

/**
 * The deploy hook as the key holds it: its words, and the content of every word that names a
 * file (the program, found through PATH like the shell would, and its script or other files
 * it is given), resolved from the output's directory where the hook runs. Programs the hook
 * runs in turn, and files it reads without naming them here, are not known to us.
 */
function deployHookIdentity(words: readonly string[], dir: string, env: Readonly<Record<string, string>>, ctx: PipelineContext): string {
  const parts = words.map((w, i) => {
    const candidate = i === 0 && !w.includes("/") ? Bun.which(w, { PATH: env.PATH ?? "", cwd: dir }) : path.resolve(dir, w);
    if (candidate === null) return JSON.stringify([w, "not found"]);
    const st = fs.statSync(candidate, { throwIfNoEntry: false });
    if (st === undefined || !st.isFile()) return JSON.stringify([w]);
    return JSON.stringify([w, ctx.files.hash(candidate) ?? "unreadable"]);
  });
  return parts.join(" ");
}