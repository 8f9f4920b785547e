// The daemon's endpoint, derived exactly as src/protocol/endpoint.ts does, and the runtime
// directory choice and trust rule of src/protocol/runtime-dir.ts.
#include "launcher.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/** normalizeAbsolute(): collapses "", "." and ".." segments; always starts with "/". */
static char *normalize_absolute(const char *p) {
  size_t n = strlen(p);
  char *out = malloc(n + 2);
  if (out == NULL) return NULL;
  size_t len = 0;
  const char *s = p;
  while (*s != '\0') {
    const char *e = strchr(s, '/');
    size_t seg = e == NULL ? strlen(s) : (size_t)(e - s);
    if (seg == 0 || (seg == 1 && s[0] == '.')) {
      // skipped
    } else if (seg == 2 && s[0] == '.' && s[1] == '.') {
      while (len > 0 && out[len - 1] != '/') len--;
      if (len > 0) len--;
    } else {
      out[len++] = '/';
      memcpy(out + len, s, seg);
      len += seg;
    }
    s += seg;
    if (*s == '/') s++;
  }
  if (len == 0) out[len++] = '/';
  out[len] = '\0';
  return out;
}

static char *join(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  int slash = na > 0 && a[na - 1] == '/';
  char *out = malloc(na + nb + 2);
  if (out == NULL) return NULL;
  memcpy(out, a, na);
  if (!slash) out[na++] = '/';
  memcpy(out + na, b, nb + 1);
  return out;
}

static char *cache_root_from_env(void) {
  const char *explicit_dir = getenv("ZCCACHE_CACHE_DIR");
  if (explicit_dir != NULL && explicit_dir[0] != '\0') {
    if (explicit_dir[0] == '/') return normalize_absolute(explicit_dir);
    char *cwd = getcwd(NULL, 0);
    if (cwd == NULL) return NULL;
    char *joined = join(cwd, explicit_dir);
    free(cwd);
    if (joined == NULL) return NULL;
    char *out = normalize_absolute(joined);
    free(joined);
    return out;
  }
  const char *xdg = getenv("XDG_CACHE_HOME");
  const char *base = "/tmp";
  const char *rel = ".cache/zccache";
  if (xdg != NULL && xdg[0] == '/') {
    base = xdg;
    rel = "zccache";
  } else if (getenv("HOME") != NULL) {
    base = getenv("HOME");
  }
  char *joined = join(base, rel);
  if (joined == NULL) return NULL;
  char *out = normalize_absolute(joined);
  free(joined);
  return out;
}

/** judgeDir() of src/protocol/runtime-dir.ts on an lstat result: absent, private or refused. */
enum verdict runtime_dir_verdict(const char *dir) {
  struct stat st;
  // lstat: a symlink in place of the directory is refused, never followed.
  if (lstat(dir, &st) != 0) return errno == ENOENT ? DIR_ABSENT : DIR_REFUSED;
  return S_ISDIR(st.st_mode) && st.st_uid == getuid() && (st.st_mode & 077) == 0 ? DIR_PRIVATE : DIR_REFUSED;
}

static char *trim_slashes(const char *p, const char *suffix) {
  size_t n = strlen(p);
  while (n > 0 && p[n - 1] == '/') n--;
  size_t ns = strlen(suffix);
  char *out = malloc(n + ns + 1);
  if (out == NULL) return NULL;
  memcpy(out, p, n);
  memcpy(out + n, suffix, ns + 1);
  return out;
}

/** sun_path holds 108 bytes including the NUL; "/<20 hex>.sock" follows the directory. */
#define MAX_SOCKET_PATH_BYTES 107
#define SOCKET_SUFFIX_BYTES 26

/**
 * chooseRuntimeDir(): the configured (or /tmp) dir unless it is refused, then a private
 * $XDG_RUNTIME_DIR/zccache, then <cache root>/run; all refused means the first, unusable.
 */
static char *choose_runtime_dir(const char *cache_root, enum verdict *v) {
  char tmp[64];
  const char *rt = getenv("ZCCACHE_RUNTIME_DIR");
  if (rt == NULL || rt[0] == '\0') {
    snprintf(tmp, sizeof tmp, "/tmp/zccache-%lu", (unsigned long)getuid());
    rt = tmp;
  }
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  char *cands[3] = {strdup(rt), NULL, NULL};
  if (cands[0] == NULL) return NULL;
  int n = 1;
  if (xdg != NULL && xdg[0] == '/' && runtime_dir_verdict(xdg) == DIR_PRIVATE) cands[n++] = trim_slashes(xdg, "/zccache");
  cands[n++] = trim_slashes(cache_root, "/run");
  char *chosen = NULL;
  *v = DIR_REFUSED;
  for (int i = 0; i < n && chosen == NULL; i++) {
    if (cands[i] == NULL || strlen(cands[i]) + SOCKET_SUFFIX_BYTES > MAX_SOCKET_PATH_BYTES) continue;
    enum verdict vi = runtime_dir_verdict(cands[i]);
    if (vi == DIR_REFUSED) continue;
    *v = vi;
    chosen = cands[i];
    cands[i] = NULL;
  }
  if (chosen == NULL) {
    chosen = cands[0];
    cands[0] = NULL;
  }
  for (int i = 0; i < n; i++) free(cands[i]);
  return chosen;
}

int endpoint_paths(char **cache_root, char **runtime_dir, char **socket_path, enum verdict *v) {
  *runtime_dir = *socket_path = NULL;
  *cache_root = cache_root_from_env();
  if (*cache_root == NULL) return -1;
  *runtime_dir = choose_runtime_dir(*cache_root, v);
  if (*runtime_dir == NULL) return -1;
  char hex[65];
  sha256_hex((const unsigned char *)*cache_root, strlen(*cache_root), hex);
  memcpy(hex + 20, ".sock", 6);
  *socket_path = join(*runtime_dir, hex);
  return *socket_path == NULL ? -1 : 0;
}
