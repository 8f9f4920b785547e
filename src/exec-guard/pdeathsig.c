/*
 * zccache-pdeathsig DAEMON_PID PROGRAM [ARG...]: runs PROGRAM with SIGTERM set as its
 * parent-death signal, so a compiler the daemon started dies with the daemon (see
 * src/platform/exec.ts). It does what `setpriv --pdeathsig TERM --` did, at the cost of one
 * exec of a tiny program instead of util-linux's, and also closes setpriv's window: a daemon
 * that died before prctl took effect is noticed (our parent is no longer DAEMON_PID) and
 * the program is not started.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

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
  execvp(argv[2], argv + 2);
  fprintf(stderr, "zccache-pdeathsig: failed to execute %s: %s\n", argv[2], strerror(errno));
  return 127;
}
