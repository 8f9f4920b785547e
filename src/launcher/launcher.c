// The native launcher, installed as dist/zccache: the compile hot path without a JavaScript
// runtime's start-up. It frames one binary compile request, replays the daemon's reply, or
// execs the compiler the daemon names (run-local). Everything else — no daemon, management
// commands, version skew, errors, a silent daemon — execs the TypeScript program
// (zccache-core beside our real path) with the original argv, which decides as it always did.
// Nothing here decides anything a cache decides.
#include "launcher.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/**
 * The recursion marker of src/platform/compiler-path.ts: comma-separated `dev:ino:size` of
 * the zccache executables on the call chain, set on every compiler zccache runs.
 */
#define REENTERED_VAR "ZCCACHE_REENTERED"
#define MAX_MARKER_IDS 16
/** Tells the TS program which launcher exec'd it: a PATH search must skip that one too. */
#define LAUNCHER_EXE_VAR "ZCCACHE_LAUNCHER_EXE"
/** Why the launcher handed over, when the daemon told it something the TS program must know. */
#define HANDOVER_VAR "ZCCACHE_LAUNCHER_HANDOVER"
#define DEFAULT_TIMEOUT_SECS 10

// Keep in sync with SUBCOMMANDS in src/main.ts (tests/launcher checks every entry).
static const char *const SUBCOMMANDS[] = {
    "daemon", "start", "stop", "status", "clear", "stats", "version", "help", "config",
    "session-start", "session-stats", "session-end", "explain", "report", "doctor", "verify", NULL,
};

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s == NULL ? p : s + 1;
}

static char *self_exe(void) {
  return realpath("/proc/self/exe", NULL);
}

/** Sets the marker to its current ids plus ours (withReentryMarker), the last 16 kept. */
static void mark_reentered(void) {
  struct stat st;
  char self[96];
  if (stat("/proc/self/exe", &st) != 0) return;
  snprintf(self, sizeof self, "%llu:%llu:%lld", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
           (long long)st.st_size);
  const char *old = getenv(REENTERED_VAR);
  char *ids = strdup(old == NULL ? "" : old);
  char *list = malloc((old == NULL ? 0 : strlen(old)) + sizeof self + 2);
  if (ids == NULL || list == NULL) {
    free(ids);
    free(list);
    setenv(REENTERED_VAR, self, 1);
    return;
  }
  const char *kept[MAX_MARKER_IDS + 1];
  int n = 0, have = 0;
  for (char *save = NULL, *id = strtok_r(ids, ",", &save); id != NULL; id = strtok_r(NULL, ",", &save)) {
    have |= strcmp(id, self) == 0;
    if (n == MAX_MARKER_IDS) memmove(kept, kept + 1, --n * sizeof *kept);
    kept[n++] = id;
  }
  if (!have) {
    if (n == MAX_MARKER_IDS) memmove(kept, kept + 1, --n * sizeof *kept);
    kept[n++] = self;
  }
  list[0] = '\0';
  for (int i = 0; i < n; i++) {
    if (i > 0) strcat(list, ",");
    strcat(list, kept[i]);
  }
  setenv(REENTERED_VAR, list, 1);
  free(ids);
  free(list);
}

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/** Hands over to the TypeScript program; argv[0] stays as invoked so it sees symlink mode. */
static _Noreturn void exec_core(char **argv) {
  char *self = self_exe();
  char core[PATH_MAX];
  if (self == NULL || snprintf(core, sizeof core, "%.*s/zccache-core", (int)(base_name(self) - self - 1), self) >= (int)sizeof core) {
    fprintf(stderr, "zccache: cannot locate zccache-core beside the launcher\n");
    _exit(127);
  }
  setenv(LAUNCHER_EXE_VAR, self, 1);
  // A re-entered core skips every zccache on the chain when it searches PATH: name us too.
  const char *marker = getenv(REENTERED_VAR);
  if (marker != NULL && *marker != '\0') mark_reentered();
  static char *fallback_argv[] = {"zccache", NULL};
  execv(core, argv[0] == NULL ? fallback_argv : argv);
  fprintf(stderr, "zccache: cannot run %s: %s\n", core, strerror(errno));
  _exit(127);
}

/**
 * ZCCACHE_CLIENT_TIMEOUT_SECS as parseClientTimeout() reads it (whole seconds > 0, blanks
 * around allowed); -1 when it is malformed: the TS program reports that, not us.
 */
static int timeout_secs(void) {
  const char *s = getenv("ZCCACHE_CLIENT_TIMEOUT_SECS");
  if (s == NULL || *s == '\0') return DEFAULT_TIMEOUT_SECS;
  while (isspace((unsigned char)*s)) s++;
  long v = 0;
  int digits = 0;
  for (; isdigit((unsigned char)*s); s++, digits++) v = v > 100000000 ? v : v * 10 + (*s - '0');
  while (isspace((unsigned char)*s)) s++;
  if (digits == 0 || *s != '\0' || v == 0) return -1;
  return v > 100000000 ? 100000000 : (int)v;
}

/** ZCCACHE_TEST_PROTOCOL_VERSION: the frame version this client speaks (tests only). */
static uint16_t protocol_version(void) {
  const char *s = getenv("ZCCACHE_TEST_PROTOCOL_VERSION");
  if (s == NULL || *s == '\0') return PROTOCOL_VERSION;
  char *end;
  long v = strtol(s, &end, 10);
  return *end == '\0' && v >= 0 && v <= 65535 ? (uint16_t)v : PROTOCOL_VERSION;
}

static int build_frame(struct buf *f, uint16_t version, const char *compiler, char **args, int argc,
                       const char *cwd, const char *self) {
  const char *session = getenv("ZCCACHE_SESSION_ID");
  // PRODUCT_VERSION of src/protocol/version.ts, test override included.
  const char *version_override = getenv("ZCCACHE_TEST_DAEMON_VERSION");
  const char *product = version_override != NULL && *version_override != '\0' ? version_override : ZCCACHE_VERSION;
  unsigned char header[FRAME_HEADER_BYTES] = {0};
  int ok = buf_put(f, header, sizeof header) == 0 && buf_str(f, product, strlen(product)) == 0 &&
           buf_str(f, compiler, strlen(compiler)) == 0 && buf_str(f, cwd, strlen(cwd)) == 0 &&
           buf_str(f, self, strlen(self)) == 0 && buf_str(f, session ? session : "", session ? strlen(session) : 0) == 0 &&
           buf_u32(f, (uint32_t)getpid()) == 0 && buf_u32(f, (uint32_t)argc) == 0;
  for (int i = 0; ok && i < argc; i++) ok = buf_str(f, args[i], strlen(args[i])) == 0;
  uint32_t envc = 0;
  for (char **e = environ; *e != NULL; e++) envc += strchr(*e, '=') != NULL;
  ok = ok && buf_u32(f, envc) == 0;
  for (char **e = environ; ok && *e != NULL; e++) {
    if (strchr(*e, '=') != NULL) ok = buf_str(f, *e, strlen(*e)) == 0;
  }
  size_t payload = f->len - FRAME_HEADER_BYTES;
  if (!ok || payload > MAX_FRAME_BYTES) return -1;
  uint32_t fields[2] = {FRAME_MAGIC, (uint32_t)payload};
  for (int k = 0; k < 4; k++) {
    f->p[k] = (unsigned char)(fields[0] >> (8 * k));
    f->p[8 + k] = (unsigned char)(fields[1] >> (8 * k));
  }
  f->p[4] = (unsigned char)version;
  f->p[5] = (unsigned char)(version >> 8);
  f->p[6] = KIND_COMPILE_REQUEST;
  f->p[7] = 0;
  return 0;
}

static int print_endpoint(void) {
  char *root, *rt, *sock;
  enum verdict v;
  if (endpoint_paths(&root, &rt, &sock, &v) != 0) return 1;
  printf("%s\n%s\n%s\n%s\n", root, rt, sock, v == DIR_PRIVATE ? "private" : v == DIR_ABSENT ? "absent" : "refused");
  free(root);
  free(rt);
  free(sock);
  return 0;
}

/**
 * The opt-in broker connect lane (src/client/broker.ts) is the TS program's, by the rule of
 * src/client/connect.ts: ZCCACHE_BROKER_CONNECT=1 or the test-only RUNNING_PROCESS_FAKE_BACKEND,
 * never with RUNNING_PROCESS_DISABLE=1.
 */
static int broker_lane_requested(void) {
  const char *off = getenv("RUNNING_PROCESS_DISABLE");
  if (off != NULL && strcmp(off, "1") == 0) return 0;
  const char *on = getenv("ZCCACHE_BROKER_CONNECT");
  const char *fake = getenv("RUNNING_PROCESS_FAKE_BACKEND");
  return (on != NULL && strcmp(on, "1") == 0) || (fake != NULL && *fake != '\0');
}

static int is_command(const char *first) {
  if (first[0] == '-') return 1;
  for (int i = 0; SUBCOMMANDS[i] != NULL; i++) {
    if (strcmp(first, SUBCOMMANDS[i]) == 0) return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *print = getenv("ZCCACHE_LAUNCHER_PRINT_ENDPOINT");
  if (print != NULL && strcmp(print, "1") == 0) return print_endpoint();
  if (argc < 1 || argv[0] == NULL) exec_core(argv);
  const char *invoked = base_name(argv[0]);
  int symlink_mode = strncmp(invoked, "zccache", 7) != 0;
  const char *disable = getenv("ZCCACHE_DISABLE");
  const char *reentered = getenv(REENTERED_VAR);
  if ((disable != NULL && *disable != '\0') || (reentered != NULL && *reentered != '\0')) exec_core(argv);
  if (broker_lane_requested()) exec_core(argv);
  if (!symlink_mode && (argc < 2 || is_command(argv[1]))) exec_core(argv);

  const char *compiler = symlink_mode ? invoked : argv[1];
  char **args = argv + (symlink_mode ? 1 : 2);
  int nargs = argc - (symlink_mode ? 1 : 2);
  char *root = NULL, *rt = NULL, *sock = NULL, *cwd = getcwd(NULL, 0), *self = symlink_mode ? self_exe() : NULL;
  struct buf frame = {0};
  unsigned char *payload = NULL;
  struct reply r;
  uint16_t version = protocol_version();
  int timeout = timeout_secs();
  enum verdict v = DIR_REFUSED;
  // An absent runtime dir means no daemon yet: the TS program creates it and starts one.
  int ok = cwd != NULL && (!symlink_mode || self != NULL) && endpoint_paths(&root, &rt, &sock, &v) == 0 &&
           v == DIR_PRIVATE && timeout > 0 && build_frame(&frame, version, compiler, args, nargs, cwd, self ? self : "") == 0;
  int64_t sent_at_ms = wall_ms();
  int rc = ok ? exchange(sock, &frame, timeout, version, &payload, &r) : -1;
  ok = ok && rc == 0;
  // Facts for the TS program, which decides what they mean: the daemon was silent (it
  // replaces that daemon without waiting out a second deadline).
  if (rc == EXCHANGE_SILENT) {
    char fact[48];
    snprintf(fact, sizeof fact, "silent:%lld", (long long)sent_at_ms);
    setenv(HANDOVER_VAR, fact, 1);
  }
  free(root);
  free(rt);
  free(sock);
  free(cwd);
  free(self);
  free(frame.p);
  if (!ok) exec_core(argv);

  if (!r.run_local) {
    // The whole reply is in memory before the first byte goes out: a fallback never duplicates output.
    write_all(1, r.out, r.out_len);
    write_all(2, r.err, r.err_len);
    int code = r.exit_code;
    free(payload);
    return code & 0xff;
  }
  if (r.compiler_len == 0 || memchr(r.compiler, '\0', r.compiler_len) != NULL) {
    free(payload);
    // The daemon already counted this invocation and said to run it uncached.
    setenv(HANDOVER_VAR, "run-local", 1);
    exec_core(argv);
  }
  char *path = strndup((const char *)r.compiler, r.compiler_len);
  free(payload);
  char **cargv = calloc((size_t)nargs + 2, sizeof *cargv);
  if (path == NULL || cargv == NULL) exec_core(argv);
  cargv[0] = path;
  memcpy(cargv + 1, args, (size_t)nargs * sizeof *cargv);
  mark_reentered();
  execv(path, cargv);
  // The daemon's compiler did not start: let the TS program report it (without the marker).
  unsetenv(REENTERED_VAR);
  setenv(HANDOVER_VAR, "run-local", 1);
  free(path);
  free(cargv);
  exec_core(argv);
}
