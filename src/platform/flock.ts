// Advisory whole-file locks through libc flock(2); the kernel drops them when the holder dies.
import { dlopen, FFIType } from "bun:ffi";

const LOCK_EX = 2;
const LOCK_NB = 4;

let lib: { symbols: { flock: (fd: number, op: number) => number } } | null = null;

function libc(): { symbols: { flock: (fd: number, op: number) => number } } {
  if (lib === null) {
    lib = dlopen("libc.so.6", { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
  }
  return lib;
}

/** Tries to take an exclusive lock without waiting; true when this process now holds it. */
export function tryLockExclusive(fd: number): boolean {
  return libc().symbols.flock(fd, LOCK_EX | LOCK_NB) === 0;
}
