// The descriptors a program run in our place should inherit: everything the caller gave us.
// Bun marks every inherited descriptor close-on-exec at start-up, so the flag cannot tell
// the caller's descriptors from the runtime's; what is left out is what can only be ours:
// the event loop's anonymous inodes and a connection to a zccache daemon socket.
import { dlopen, FFIType, ptr } from "bun:ffi";
import * as fs from "node:fs";

const AF_UNIX = 1;
const SOCKADDR_UN_BYTES = 110;
/** Socket names a daemon listens on (see protocol/endpoint.ts): `<20 hex>.sock`. */
const DAEMON_SOCKET_NAME = /\/[0-9a-f]{20}\.sock$/;

function openLibc() {
  return dlopen("libc.so.6", {
    getpeername: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  }).symbols;
}

function unixPeerPath(fd: number): string | null {
  try {
    const addr = new Uint8Array(SOCKADDR_UN_BYTES);
    const len = new Uint32Array([SOCKADDR_UN_BYTES]);
    if (openLibc().getpeername(fd, ptr(addr), ptr(len)) !== 0) return null;
    if ((addr[0] ?? 0) + ((addr[1] ?? 0) << 8) !== AF_UNIX) return null;
    const pathBytes = addr.subarray(2, Math.min(len[0] ?? 2, SOCKADDR_UN_BYTES));
    const nul = pathBytes.indexOf(0);
    return new TextDecoder().decode(nul < 0 ? pathBytes : pathBytes.subarray(0, nul));
  } catch {
    return null;
  }
}

function isOurs(fd: number, target: string): boolean {
  if (target.startsWith("anon_inode:")) return true;
  if (!target.startsWith("socket:")) return false;
  const peer = unixPeerPath(fd);
  return peer !== null && DAEMON_SOCKET_NAME.test(peer);
}

/** Open descriptors above 2 that a compiler run for the caller must inherit; null without /proc. */
export function callerDescriptors(maxFd: number): number[] | null {
  let names: string[];
  try {
    names = fs.readdirSync("/proc/self/fd");
  } catch {
    return null;
  }
  const out: number[] = [];
  for (const name of names) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd <= 2 || fd > maxFd) continue;
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed since the listing (the listing's own descriptor)
    }
    if (target === "/proc/self/fd" || target.startsWith(`/proc/${process.pid}/fd`)) continue;
    if (!isOurs(fd, target)) out.push(fd);
  }
  return out.sort((a, b) => a - b);
}
