#!/usr/bin/env bash
# Installs the Debian packages the test suite drives (real compilers and tools), when
# they are missing and we may install them. Never downloads anything else.
set -euo pipefail

need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v clang >/dev/null 2>&1 || need+=(clang)
command -v make >/dev/null 2>&1 || need+=(make)
command -v ar >/dev/null 2>&1 || need+=(binutils)

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
