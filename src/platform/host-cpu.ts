// The CPU a compile runs on, for options that make the compiler target "this machine"
// (gcc/clang -march=native and friends, rustc -C target-cpu=native): two machines with
// different CPUs must not share such an entry (a shared remote would hand out code for
// instructions this CPU lacks).
import * as fs from "node:fs";
import { sha256Hex } from "./hash.ts";

let memo: string | null = null;

/** A digest of the CPU model and its feature flags (/proc/cpuinfo's first processor; all of it when no known field is there). */
export function hostCpu(): string {
  if (memo !== null) return memo;
  let text: string;
  try {
    text = fs.readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    text = "unknown";
  }
  const first = text.split("\n\n")[0] ?? text;
  // x86 names the model and its flags; aarch64 the implementer, part and Features.
  const lines = first
    .split("\n")
    .filter((l) => /^(vendor_id|cpu family|model|model name|flags|stepping|Features|CPU implementer|CPU architecture|CPU variant|CPU part|CPU revision|isa|uarch|cpu)\s*:/.test(l));
  memo = sha256Hex(lines.length > 0 ? lines.join("\n") : first.split("\n").filter((l) => !/^(processor|cpu MHz|bogomips|BogoMIPS)\s*:/i.test(l)).join("\n"));
  return memo;
}
