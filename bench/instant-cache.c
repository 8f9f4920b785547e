/*
 * instant-cache COMPILER ARG...: the floor under any compiler cache in a rebuild. It decides
 * nothing and keeps no index: the object (-o) and the depfile (-MF) of a compile are copied
 * from INSTANT_CACHE_STASH/<absolute output path>, where the bench put a bare build's files.
 * When either is not in the stash it runs the compiler instead, and for a compile (-c, not a
 * link) appends a line to INSTANT_CACHE_PASSED (when set), so the bench can tell a floor from
 * a partial one. Built by
 * the bench with the machine's cc (linked statically when it can be, as the zccache launcher
 * is); never shipped.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int copy_file(const char *from, const char *to) {
  int in = open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0) return -1;
  int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    close(in);
    return -1;
  }
  char buf[1 << 16];
  ssize_t n;
  int rc = 0;
  while ((n = read(in, buf, sizeof buf)) > 0) {
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(out, buf + done, (size_t)(n - done));
      if (w <= 0) {
        rc = -1;
        break;
      }
      done += w;
    }
    if (rc != 0) break;
  }
  if (n < 0) rc = -1;
  close(in);
  if (close(out) != 0) rc = -1;
  return rc;
}

/* INSTANT_CACHE_STASH + the absolute spelling of `p` (relative to the cwd). */
static int stash_path(const char *stash, const char *cwd, const char *p, char *out, size_t size) {
  int n = p[0] == '/' ? snprintf(out, size, "%s%s", stash, p) : snprintf(out, size, "%s%s/%s", stash, cwd, p);
  return n > 0 && (size_t)n < size ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs("usage: instant-cache COMPILER ARG...\n", stderr);
    return 2;
  }
  const char *stash = getenv("INSTANT_CACHE_STASH");
  const char *object = NULL;
  const char *depfile = NULL;
  for (int i = 2; i + 1 < argc; i++) {
    if (strcmp(argv[i], "-o") == 0) object = argv[i + 1];
    if (strcmp(argv[i], "-MF") == 0) depfile = argv[i + 1];
  }
  char cwd[PATH_MAX];
  if (stash != NULL && object != NULL && getcwd(cwd, sizeof cwd) != NULL) {
    const char *outs[2] = {object, depfile};
    char from[2][PATH_MAX];
    int found = 1;
    for (int k = 0; k < 2 && found; k++) {
      if (outs[k] == NULL) continue;
      found = stash_path(stash, cwd, outs[k], from[k], sizeof from[k]) == 0 && access(from[k], R_OK) == 0;
    }
    if (found) {
      int ok = 1;
      for (int k = 0; k < 2 && ok; k++) {
        if (outs[k] != NULL) ok = copy_file(from[k], outs[k]) == 0;
      }
      if (ok) return 0;
    }
  }
  /* Links (no -c) run the linker in every build, the floor's included. */
  int compile = 0;
  for (int i = 2; i < argc; i++) compile |= strcmp(argv[i], "-c") == 0;
  const char *passed = getenv("INSTANT_CACHE_PASSED");
  if (passed != NULL && compile) {
    int fd = open(passed, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      (void)!write(fd, "passed\n", 7);
      close(fd);
    }
  }
  execvp(argv[1], argv + 1);
  perror("instant-cache: exec");
  return 127;
}
