#!/usr/bin/env bash
# Builds zccache into OUT (default dist/): the TypeScript program, and when the machine has a
# C compiler the native launcher in front of it (plus a sanitizer build the tests also run).
#   with cc:    OUT/zccache = launcher, OUT/zccache-asan = launcher under ASan+UBSan,
#               OUT/zccache-core = the TypeScript program the launcher execs,
#               OUT/zccache-pdeathsig = the guard the daemon runs compilers through
#   without cc: OUT/zccache = the TypeScript program
# ZCCACHE_BUILD_BUN names the Bun to build with (default: bun on PATH, else node_modules/.bin/bun);
# ZCCACHE_BUILD_ASAN=0 skips the sanitizer build (the npm package's install step does).
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
native() {
  local dest="$1"
  shift
  local link
  for link in -static-pie -static ""; do
    if [ -z "$link" ]; then
      "$cc" "${flags[@]}" -O2 -o "$dest.tmp.$$" "$@"
    elif ! "$cc" "${flags[@]}" -O2 "$link" -o "$dest.tmp.$$" "$@" 2>/dev/null; then
      rm -f "$dest.tmp.$$"
      continue
    fi
    mv -f "$dest.tmp.$$" "$dest"
    linked="${link:-dynamic}"
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
echo "build: $out/zccache (native launcher, ${launcher_link#-} link) -> $out/zccache-core"
