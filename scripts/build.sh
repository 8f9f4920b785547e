#!/usr/bin/env bash
# Builds zccache into OUT (default dist/): the TypeScript program, and when the machine has a
# C compiler the native launcher in front of it (plus a sanitizer build the tests also run).
#   with cc:    OUT/zccache = launcher, OUT/zccache-asan = launcher under ASan+UBSan,
#               OUT/zccache-core = the TypeScript program the launcher execs,
#               OUT/zccache-pdeathsig = the guard the daemon runs compilers through
#   without cc: OUT/zccache = the TypeScript program
# ZCCACHE_BUILD_BUN names the Bun to build with (default: bun on PATH, else node_modules/.bin/bun);
# ZCCACHE_BUILD_ASAN=0 skips the sanitizer build (the npm package's install step does);
# ZCCACHE_BUILD_MUSL=0 builds the launcher and the guard with cc even where musl-gcc is installed.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/dist}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

bun="${ZCCACHE_BUILD_BUN:-$(command -v bun || true)}"
[ -n "$bun" ] || bun="$root/node_modules/.bin/bun"

build_ts() {
  (cd "$root" && "$bun" build src/main.ts --compile --splitting --bytecode --format=esm \
    --no-compile-autoload-dotenv --no-compile-autoload-bunfig --outfile "$1")
}

cc="${CC:-cc}"
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "build: no C compiler ('$cc') found; $out/zccache is the TypeScript program (no native launcher)"
  rm -f "$out/zccache-core" "$out/zccache-asan" "$out/zccache-pdeathsig"
  build_ts "$out/zccache"
  exit 0
fi

build_ts "$out/zccache-core"
version="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$root/package.json" | head -n 1)"
sources=("$root"/src/launcher/*.c)
flags=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror "-DZCCACHE_VERSION=\"$version\"")
# The launcher and the guard are exec'd once per compile: linked statically they skip the
# dynamic loader (about 0.2-0.5 ms a start here). static-pie keeps address randomisation;
# without a static C library (Fedora without glibc-static, for one) the link is the
# ordinary dynamic one. Warnings are errors in every attempt; only the last one's are shown.
# Built to a temp name and renamed: a running build never sees a half-written binary.
#
# Where musl-gcc is installed (Debian: musl-tools) and CC was not named, both are linked
# statically against musl instead: glibc's static start-up takes ~0.8 ms of every exec on
# our test VM (an empty program: 1.75 ms from fork to exit against 0.92 ms with musl and
# 0.90 ms with no C library at all; 26 page faults against 2), which is a quarter of a
# warm hit. musl-gcc's specs turn -static-pie into a dynamic link against musl's loader, so
# these two are plain -static there: no address randomisation for two small programs whose
# only untrusted-looking input is a reply from the user's own daemon. A musl link that fails
# falls back to cc. The sanitizer build always uses cc (the sanitizers need glibc).
static_cc=""
if [ -z "${CC:-}" ] && [ "${ZCCACHE_BUILD_MUSL:-1}" != 0 ] && command -v musl-gcc >/dev/null 2>&1; then
  static_cc="musl-gcc"
fi
native() {
  local dest="$1"
  shift
  local link
  if [ -n "$static_cc" ]; then
    if "$static_cc" "${flags[@]}" -O2 -static -o "$dest.tmp.$$" "$@" 2>/dev/null; then
      mv -f "$dest.tmp.$$" "$dest"
      linked="static link, musl"
      return 0
    fi
    rm -f "$dest.tmp.$$"
    echo "build: musl-gcc could not link $(basename "$dest"); building it with $cc instead"
  fi
  for link in -static-pie -static ""; do
    if [ -z "$link" ]; then
      "$cc" "${flags[@]}" -O2 -o "$dest.tmp.$$" "$@"
    elif ! "$cc" "${flags[@]}" -O2 "$link" -o "$dest.tmp.$$" "$@" 2>/dev/null; then
      rm -f "$dest.tmp.$$"
      continue
    fi
    mv -f "$dest.tmp.$$" "$dest"
    linked="${link:-dynamic}"
    linked="${linked#-} link"
    return 0
  done
}
native "$out/zccache" "${sources[@]}"
launcher_link="$linked"
if [ "${ZCCACHE_BUILD_ASAN:-1}" != 0 ]; then
  "$cc" "${flags[@]}" -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
    -o "$out/zccache-asan.tmp.$$" "${sources[@]}"
  mv -f "$out/zccache-asan.tmp.$$" "$out/zccache-asan"
fi
# The daemon runs every compiler through this guard (src/platform/exec.ts).
native "$out/zccache-pdeathsig" "$root/src/exec-guard/pdeathsig.c"
guard_link="$linked"
echo "build: $out/zccache (native launcher, $launcher_link; guard $guard_link) -> $out/zccache-core"
