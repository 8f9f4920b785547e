// The key of a link or archive: the tool, how it was called, and the content of every input
// named on the command line. Libraries found by search, the driver's implicit inputs (crt*.o,
// libc, libgcc) and linker scripts they pull in are recorded per entry and re-validated.
import type { KeyField } from "../../cache/key.ts";
import { CC_KEY_ENV_VARS } from "../cc/plan.ts";

/** Environment variables linkers, drivers and emcc read that can change the result. */
export const LINK_KEY_ENV_VARS: readonly string[] = [
  ...new Set([
    ...CC_KEY_ENV_VARS,
    "LIBRARY_PATH",
    // A native gcc reads LPATH as it reads LIBRARY_PATH.
    "LPATH",
    "LD_LIBRARY_PATH",
    "LD_RUN_PATH",
    "ZERO_AR_DATE",
    "NODE_PATH",
    "EMSDK_PYTHON",
  ]),
];

export interface LinkKeyInputs {
  readonly toolHash: string;
  readonly invokedName: string;
  readonly kind: "link" | "archive";
  /** Null where the result cannot depend on it (archives). */
  readonly cwd: string | null;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Absolute path and content hash of each input named on the command line, in order. */
  readonly inputs: readonly { readonly path: string; readonly hash: string }[];
  /** The archive `ar r`/`q` updates (its content, or "absent"); "" for links. */
  readonly priorOutput: string;
  /** ZCCACHE_LINK_DEPLOY_CMD: its outputs are part of the entry. */
  readonly deployCmd: string;
}

export function linkKeyFields(k: LinkKeyInputs): KeyField[] {
  const envPairs = LINK_KEY_ENV_VARS.filter((v) => k.env[v] !== undefined).map((v) => `${v}=${k.env[v]}`);
  return [
    { name: "tool", value: k.toolHash },
    { name: "invoked-as", value: k.invokedName },
    { name: "kind", value: k.kind },
    // Output paths appear inside some outputs (map files, emcc's .js naming its .wasm).
    ...(k.cwd === null ? [] : [{ name: "cwd", value: k.cwd }]),
    { name: "args", value: k.args },
    { name: "env", value: envPairs },
    { name: "inputs", value: k.inputs.map((i) => `${i.path}\u0000${i.hash}`) },
    { name: "prior-output", value: k.priorOutput },
    { name: "deploy", value: k.deployCmd },
  ];
}
