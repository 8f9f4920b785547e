// Known-answer vector for the rustc key: a change to key composition must change it on purpose.
import { expect, test } from "bun:test";
import { cacheKey } from "../../cache/key.ts";
import { classifyRustc, type RustInvocation } from "./args.ts";
import { cargoKeyEnv, normalizedArgs, pathNormalizer, type RustKeyInputs, rustKeyFields, targetDirOf } from "./plan.ts";

function inv(args: string[]): RustInvocation {
  const c = classifyRustc(args);
  if (c.kind !== "cacheable") throw new Error(c.detail);
  return c.inv;
}

const ARGS = (target: string) => [
  "--crate-name", "mid", "--edition=2021", "mid/src/lib.rs", "--error-format=json",
  "--crate-type", "lib", "--emit=dep-info,metadata,link", "-C", "metadata=abc", "-C", "extra-filename=-abc",
  "--out-dir", `${target}/debug/deps`, "-C", `incremental=${target}/debug/incremental`,
  "-L", `dependency=${target}/debug/deps`, "--extern", `base=${target}/debug/deps/libbase-1.rmeta`,
];

const INPUTS: RustKeyInputs = {
  toolchain: "t".repeat(64),
  driver: "rustc",
  cwd: "/ws",
  env: { CARGO_PKG_NAME: "mid", CARGO_MANIFEST_DIR: "/ws/mid", CARGO_MAKEFLAGS: "-j --jobserver-fds=6,7", PATH: "/usr/bin" },
  externHashes: ["e".repeat(64)],
  linkInputs: [],
  linker: null,
  targetSpec: null,
  hostCpu: null,
  colorMode: "n/a",
  clippy: false,
};

test("rustc key composition vector", () => {
  expect<string>(cacheKey("rustc", rustKeyFields(inv(ARGS("/ws/target")), INPUTS))).toBe(
    "0d55f61ca44cf236587813a47858f1d1e024d5048b31cb7300995dbfb5971008",
  );
});

test("output locations, the jobserver and PATH are not in the key; sources, env and externs are", () => {
  const k = (args: string[], inputs: RustKeyInputs = INPUTS) => cacheKey("rustc", rustKeyFields(inv(args), inputs));
  const base = k(ARGS("/ws/target"));
  expect(k(ARGS("/elsewhere/tgt"))).toBe(base);
  expect(k(ARGS("/ws/target"), { ...INPUTS, env: { ...INPUTS.env, CARGO_MAKEFLAGS: "-j2", PATH: "/bin" } })).toBe(base);
  expect(k(ARGS("/ws/target"), { ...INPUTS, env: { ...INPUTS.env, CARGO_PKG_NAME: "other" } })).not.toBe(base);
  expect(k(ARGS("/ws/target"), { ...INPUTS, externHashes: ["f".repeat(64)] })).not.toBe(base);
  expect(k(ARGS("/ws/target"), { ...INPUTS, cwd: "/copy", env: { ...INPUTS.env, CARGO_MANIFEST_DIR: "/copy/mid" } })).not.toBe(base);
  expect(k([...ARGS("/ws/target"), "-C", "opt-level=3"])).not.toBe(base);
  expect(k(ARGS("/ws/target"), { ...INPUTS, driver: "clippy-driver=x" })).not.toBe(base);
  // Variables rustc reads that change its output; the probe that fingerprints the toolchain
  // runs without them (toolchain.ts), so the key is where they count.
  for (const v of ["RUSTC_BOOTSTRAP", "RUSTC_FORCE_RUSTC_VERSION", "RUSTC_OVERRIDE_VERSION_STRING", "RUST_TARGET_PATH"]) {
    expect(k(ARGS("/ws/target"), { ...INPUTS, env: { ...INPUTS.env, [v]: "1" } })).not.toBe(base);
  }
});

test("a remapped cwd leaves the tree's location out of the key", () => {
  const at = (root: string) =>
    cacheKey(
      "rustc",
      rustKeyFields(inv([...ARGS(`${root}/target`), `--remap-path-prefix=${root}=/src`]), {
        ...INPUTS,
        cwd: root,
        env: { ...INPUTS.env, CARGO_MANIFEST_DIR: `${root}/mid` },
      }),
    );
  expect(at("/a/ws")).toBe(at("/b/copy"));
  // A mapping of an ancestor keeps the cwd's place under it, which rustc writes.
  const above = (root: string, from: string) =>
    cacheKey("rustc", rustKeyFields(inv([...ARGS(`${root}/target`), `--remap-path-prefix=${from}=/src`]), { ...INPUTS, cwd: root }));
  expect(above("/home/a/ws", "/home/a")).toBe(above("/home/b/ws", "/home/b"));
  expect(above("/home/a/ws", "/home")).not.toBe(above("/home/b/ws", "/home"));
});

test("target dirs from cargo's layout", () => {
  expect(targetDirOf("/ws/target/debug/deps", null)).toBe("/ws/target");
  expect(targetDirOf("/ws/target/release/build/serde-123", null)).toBe("/ws/target");
  expect(targetDirOf("/ws/target/x86_64-unknown-linux-gnu/debug/deps", "x86_64-unknown-linux-gnu")).toBe("/ws/target");
  expect(targetDirOf("/somewhere/out", null)).toBe("/somewhere/out");
  const norm = pathNormalizer("/ws", "/ws/target");
  expect(normalizedArgs(inv(ARGS("/ws/target")), "/ws", norm)).toContain("-L=dependency=<target>/debug/deps");
  expect(cargoKeyEnv("CARGO_PKG_VERSION")).toBe(true);
  expect(cargoKeyEnv("CARGO_MAKEFLAGS")).toBe(false);
  expect(cargoKeyEnv("CARGO_PRIMARY_PACKAGE")).toBe(false);
});
