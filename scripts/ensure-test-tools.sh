#!/usr/bin/env bash
# Installs the Debian packages the test suite drives (real compilers and tools), when
# they are missing and we may install them. Never downloads anything else.
set -euo pipefail

need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v clang >/dev/null 2>&1 || need+=(clang)
# clang-tidy and include-what-you-use suite (tests/e2e/tidy-iwyu.test.ts).
command -v clang-tidy >/dev/null 2>&1 || need+=(clang-tidy)
command -v include-what-you-use >/dev/null 2>&1 || need+=(iwyu)
command -v make >/dev/null 2>&1 || need+=(make)
# The launcher and the compilers' guard are built against musl where it is installed
# (scripts/build.sh): the suites test that build, and the sanitizer twin the glibc one.
command -v musl-gcc >/dev/null 2>&1 || need+=(musl-tools)
command -v ar >/dev/null 2>&1 || need+=(binutils)
# Link and archive suites: lld (ld.lld, wasm-ld), llvm-ar, and Emscripten (emcc, em++).
command -v ld.lld >/dev/null 2>&1 || need+=(lld)
command -v wasm-ld >/dev/null 2>&1 || need+=(lld)
command -v llvm-ar >/dev/null 2>&1 || need+=(llvm)
command -v emcc >/dev/null 2>&1 || need+=(emscripten)
# Recursion-guard suite: Debian's ccache masquerade dir (/usr/lib/ccache) and strace to count
# the programs a compile starts.
command -v ccache >/dev/null 2>&1 || need+=(ccache)
command -v strace >/dev/null 2>&1 || need+=(strace)
# Remote-storage and distributed-compile suites (tests/fixtures/servers.ts): a Redis server and
# its CLI, nginx with WebDAV PUT/DELETE (http_dav_module) and distcc's client and server.
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
{ command -v nginx || [ -x /usr/sbin/nginx ]; } >/dev/null 2>&1 || need+=(nginx-light)
command -v distcc >/dev/null 2>&1 || need+=(distcc)
command -v distccd >/dev/null 2>&1 || need+=(distcc)
# The HTML report suite loads the report in a real headless browser (tests/fixtures/browser.ts).
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# A real third-party crate graph for the Rust suite, built offline from Debian's registry.
for crate in serde serde-derive serde-json; do
  dir="$(echo "$crate" | tr - _)"
  compgen -G "/usr/share/cargo/registry/${dir}-[0-9]*" >/dev/null || need+=("librust-${crate}-dev")
done

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "zccache tests need: ${need[*]} (install them with apt-get as root)" >&2
  exit 1
fi

echo "installing test tools from Debian: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
