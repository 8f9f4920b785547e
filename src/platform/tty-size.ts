// The width of another process's terminal: gcc sizes the source lines it quotes in
// diagnostics by its standard input's terminal (TIOCGWINSZ on fd 0) when COLUMNS is unset.
import * as fs from "node:fs";
import { dlopen, FFIType, type Pointer, ptr } from "bun:ffi";

const TIOCGWINSZ = 0x5413;

type Ioctl = (fd: number, request: number, arg: Pointer) => number;
let ioctl: Ioctl | null = null;

function libcIoctl(): Ioctl {
  if (ioctl === null) {
    const lib = dlopen("libc.so.6", { ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 } });
    ioctl = (fd, request, arg) => lib.symbols.ioctl(fd, request, arg);
  }
  return ioctl;
}

/** Columns of the terminal on `pid`'s file descriptor `fd`, or null when it is not a terminal. */
export function terminalColumns(pid: number, fd: number): number | null {
  let target: string;
  try {
    target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return null;
  }
  if (!/^\/dev\/(pts\/\d+|tty\w*|console)$/.test(target)) return null;
  let handle: number;
  try {
    // O_NOCTTY: the daemon has no controlling terminal and must not acquire this one.
    handle = fs.openSync(target, fs.constants.O_RDONLY | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const ws = new Uint16Array(4);
    if (libcIoctl()(handle, TIOCGWINSZ, ptr(ws)) !== 0) return null;
    const cols = ws[1] ?? 0;
    return cols > 0 ? cols : null;
  } catch {
    return null;
  } finally {
    fs.closeSync(handle);
  }
}
