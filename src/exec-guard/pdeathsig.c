/*
 * zccache-pdeathsig DAEMON_PID PROGRAM [ARG...]: runs PROGRAM with SIGTERM set as its
 * parent-death signal, so a compiler the daemon started dies with the daemon (see
 * src/platform/exec.ts). It does what `setpriv --pdeathsig TERM --` did, at the cost of one
 * exec of a tiny program instead of util-linux's, and also closes setpriv's window: a daemon
 * that died before prctl took effect is noticed (our parent is no longer DAEMON_PID) and
 * the program is not started.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/*
 * A file the kernel will not run (ENOEXEC: a shell script without "#!") runs under /bin/sh,
 * as glibc's execvp does and the shell a build runs its commands with would. musl's execvp
 * does not, and this guard is linked against musl where it can be.
 */
static void exec_as_script(const char *file, char **argv) {
  size_t n = 0;
  while (argv[n] != NULL) n++;
  char **sh = calloc(n + 2, sizeof *sh);
  if (sh == NULL) return;
  sh[0] = "/bin/sh";
  sh[1] = (char *)file;
  for (size_t i = 1; i < n; i++) sh[i + 1] = argv[i];
  sh[n + 1] = NULL;
  execv("/bin/sh", sh);
  free(sh);
}

/* execvp(argv[0], argv) with glibc's ENOEXEC fallback; returns only on failure, errno set. */
static void exec_program(char **argv) {
  const char *file = argv[0];
  if (strchr(file, '/') != NULL) {
    execv(file, argv);
    if (errno == ENOEXEC) exec_as_script(file, argv);
    return;
  }
  const char *path = getenv("PATH");
  if (path == NULL) path = "/usr/local/bin:/bin:/usr/bin";
  size_t flen = strlen(file);
  int denied = 0;
  for (const char *p = path;;) {
    const char *colon = strchr(p, ':');
    size_t dlen = colon != NULL ? (size_t)(colon - p) : strlen(p);
    char buf[PATH_MAX];
    if (dlen + 1 + flen + 1 <= sizeof buf) {
      size_t at = 0;
      /* An empty entry is the current directory, as for execvp. */
      if (dlen > 0) {
        memcpy(buf, p, dlen);
        buf[dlen] = '/';
        at = dlen + 1;
      }
      memcpy(buf + at, file, flen + 1);
      execv(buf, argv);
      if (errno == ENOEXEC) {
        exec_as_script(buf, argv);
        return;
      }
      if (errno == EACCES) denied = 1;
      else if (errno != ENOENT && errno != ENOTDIR) return;
    }
    if (colon == NULL) break;
    p = colon + 1;
  }
  errno = denied ? EACCES : ENOENT;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fputs("usage: zccache-pdeathsig DAEMON_PID PROGRAM [ARG...]\n", stderr);
    return 127;
  }
  char *end = NULL;
  long daemon = strtol(argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || daemon <= 1) {
    fputs("zccache-pdeathsig: bad daemon pid\n", stderr);
    return 127;
  }
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) {
    fprintf(stderr, "zccache-pdeathsig: prctl: %s\n", strerror(errno));
    return 127;
  }
  /* The daemon died before the signal was armed: die as it would have made us. */
  if ((long)getppid() != daemon) {
    signal(SIGTERM, SIG_DFL);
    raise(SIGTERM);
    return 128 + SIGTERM;
  }
  exec_program(argv + 2);
  fprintf(stderr, "zccache-pdeathsig: failed to execute %s: %s\n", argv[2], strerror(errno));
  return 127;
}
