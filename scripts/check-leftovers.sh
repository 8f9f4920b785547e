#!/usr/bin/env bash
# `npm test` must leave nothing of ours behind. `snapshot` (pretest) records what already
# exists; `check` (posttest) fails, listing them, if there are new entries in the temp dir
# or in a runtime dir (/tmp/zccache-<uid>) with our prefixes (zc-*, zccache-*), or zccache
# daemons still serving a cache root under those temp dirs. Other programs' files are ignored.
# An empty runtime dir may stay: it is the product's own per-user directory, not test debris.
set -euo pipefail
shopt -s extglob

mode="${1:-}"
tmp="${TMPDIR:-/tmp}"
tmp="${tmp%/}"
snapshot="${ZC_LEFTOVER_SNAPSHOT:-$(cd "$(dirname "$0")/.." && pwd)/node_modules/.zc-leftovers.snapshot}"

# One line per thing of ours: "tmp <name>", "rt <dir>/<name>", "daemon <pid> <cache dir>".
inventory() {
  local name dir f pid argv root
  for f in "$tmp"/zc-* "$tmp"/zccache-*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    name="${f##*/}"
    # A runtime dir is listed by its entries below; itself only when it is not a dir.
    if [[ "$name" == zccache-+([0-9]) ]] && [ -d "$f" ] && [ ! -L "$f" ]; then continue; fi
    echo "tmp $name"
  done
  for dir in "$tmp"/zccache-*; do
    [[ "${dir##*/}" == zccache-+([0-9]) ]] && [ -d "$dir" ] && [ ! -L "$dir" ] || continue
    for f in "$dir"/* "$dir"/.[!.]*; do
      [ -e "$f" ] || [ -L "$f" ] || continue
      echo "rt ${dir##*/}/${f##*/}"
    done
  done
  for f in /proc/[0-9]*/cmdline; do
    pid="${f#/proc/}"
    pid="${pid%/cmdline}"
    { mapfile -d '' -t argv <"$f"; } 2>/dev/null || continue
    root=""
    local i has_daemon=0
    for ((i = 0; i < ${#argv[@]}; i++)); do
      [ "${argv[i]}" = "daemon" ] && has_daemon=1
      if [ "${argv[i]}" = "--cache-dir" ] && [ $((i + 1)) -lt ${#argv[@]} ]; then root="${argv[i + 1]}"; fi
    done
    [ "$has_daemon" = 1 ] || continue
    case "$root" in
      "$tmp"/zc-* | "$tmp"/zccache-*) ;;
      *) continue ;;
    esac
    # A zombie has already exited.
    grep -q ') Z ' "/proc/$pid/stat" 2>/dev/null && continue
    echo "daemon $pid $root"
  done
}

case "$mode" in
  snapshot)
    mkdir -p "$(dirname "$snapshot")"
    inventory | LC_ALL=C sort >"$snapshot"
    ;;
  check)
    if [ ! -f "$snapshot" ]; then
      echo "check-leftovers: no snapshot at $snapshot (run '$0 snapshot' before the tests)" >&2
      exit 2
    fi
    now="$(inventory | LC_ALL=C sort)"
    left="$(LC_ALL=C comm -13 "$snapshot" <(printf '%s\n' "$now" | sed '/^$/d'))"
    rm -f "$snapshot"
    if [ -n "$left" ]; then
      echo "check-leftovers: the tests left these behind (in $tmp; rt = runtime dir):" >&2
      printf '  %s\n' "$left" >&2
      exit 1
    fi
    echo "check-leftovers: nothing left behind"
    ;;
  *)
    echo "usage: $0 snapshot|check" >&2
    exit 2
    ;;
esac
