#!/usr/bin/env bash
# Demo: compile a small C project twice through zccache (miss, then hit) with a private
# cache directory and daemon, show `zccache status`, and stop the daemon again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
zc="$root/dist/zccache"
work="$(mktemp -d /tmp/zccache-demo.XXXXXX)"
export ZCCACHE_CACHE_DIR="$work/cache"
trap '"$zc" stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

mkdir -p "$work/src"
cd "$work/src"
cat > greet.h <<'H'
#ifndef GREET_H
#define GREET_H
const char *greeting(void);
int answer(void);
#endif
H
cat > greet.c <<'C'
#include "greet.h"
const char *greeting(void) { return "hello from a cached object"; }
int answer(void) { return 42; }
C
cat > main.c <<'C'
#include <stdio.h>
#include "greet.h"
int main(void) {
  printf("%s, answer=%d\n", greeting(), answer());
  return 0;
}
C
cat > Makefile <<'M'
CC ?= cc
OBJS = main.o greet.o
demo: $(OBJS)
	$(CC) -o $@ $(OBJS)
%.o: %.c greet.h
	$(CC) -O2 -Wall -c $< -o $@
clean:
	rm -f demo $(OBJS)
M

echo "== build 1 (cold cache: misses)"
make -s CC="$zc gcc"
./demo
"$zc" status
echo
echo "== make clean; build 2 (warm cache: hits)"
make -s clean
make -s CC="$zc gcc"
./demo
"$zc" status
