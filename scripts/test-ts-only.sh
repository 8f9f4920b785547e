#!/usr/bin/env bash
# The layout without a C compiler: dist/zccache is the Bun program itself. Builds that
# layout into a temporary directory and runs end-to-end suites against it (all of tests/e2e
# and tests/reliability with --all; by default the suites that touch what the launcher
# changes: the compile path, lifecycle, deadlines, recursion, fds and runtime-dir trust).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d /tmp/zc-tsonly-XXXXXX)"
trap 'rm -rf "$out"' EXIT
# Suites that run zccache as another user (hardlink delivery as nobody) must reach it.
chmod 755 "$out"
CC=/nonexistent/cc bash "$root/scripts/build.sh" "$out" >/dev/null
if [ -e "$out/zccache-core" ]; then echo "test-ts-only: expected a TypeScript-only build" >&2; exit 1; fi
cd "$root"
if [ "${1:-}" = "--all" ]; then
  suites=(tests/e2e tests/reliability)
else
  suites=(tests/e2e/cc-hit-miss.test.ts tests/e2e/cc-depfiles.test.ts tests/e2e/daemon-lifecycle.test.ts
    tests/e2e/daemon-deadline.test.ts tests/e2e/daemon-settings.test.ts tests/e2e/daemon-security.test.ts
    tests/e2e/client-recursion.test.ts tests/e2e/client-fds.test.ts tests/e2e/obs-counters.test.ts)
fi
ZCCACHE_TEST_BIN="$out/zccache" bun test --timeout 120000 "${suites[@]}"
