// Frames on the daemon socket: one request out, frames in until the compile reply; and the
// loops that write a reply's bytes to stdout/stderr whatever kind of file they are.
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int buf_put(struct buf *b, const void *p, size_t n) {
  if (b->cap - b->len < n) {
    size_t cap = b->cap == 0 ? 4096 : b->cap;
    while (cap - b->len < n) cap *= 2;
    unsigned char *q = realloc(b->p, cap);
    if (q == NULL) return -1;
    b->p = q;
    b->cap = cap;
  }
  if (n > 0) memcpy(b->p + b->len, p, n);
  b->len += n;
  return 0;
}

int buf_u32(struct buf *b, uint32_t v) {
  unsigned char le[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
  return buf_put(b, le, 4);
}

int buf_str(struct buf *b, const char *s, size_t n) {
  if (n > MAX_FRAME_BYTES) return -1;
  return buf_u32(b, (uint32_t)n) == 0 && buf_put(b, s, n) == 0 ? 0 : -1;
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/** Set when the last exchange ended because the daemon stayed silent past the deadline. */
static int silent_daemon;

/** 1 when fd is ready for `events` before the deadline, 0 on timeout or a poll error. */
static int wait_for(int fd, short events, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      silent_daemon = 1;
      return 0;
    }
    struct pollfd pfd = {.fd = fd, .events = events, .revents = 0};
    int n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
    if (n > 0) return 1;
    if (n < 0 && errno != EINTR) return 0;
  }
}

static int send_all(int fd, const unsigned char *p, size_t n, int64_t timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  while (n > 0) {
    // MSG_NOSIGNAL: a daemon that hangs up must not kill us with SIGPIPE.
    ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    if (k > 0) {
      p += k;
      n -= (size_t)k;
      deadline = now_ms() + timeout_ms;
    } else if (k < 0 && errno == EINTR) {
      continue;
    } else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_for(fd, POLLOUT, deadline)) return -1;
    } else {
      return -1;
    }
  }
  return 0;
}

/** Reads exactly n bytes; any silence of timeout_ms, EOF or error fails. */
static int recv_all(int fd, unsigned char *p, size_t n, int64_t timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  while (n > 0) {
    ssize_t k = recv(fd, p, n, 0);
    if (k > 0) {
      p += k;
      n -= (size_t)k;
      deadline = now_ms() + timeout_ms;
    } else if (k == 0) {
      return -1;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_for(fd, POLLIN, deadline)) return -1;
    } else {
      return -1;
    }
  }
  return 0;
}

static int connect_to(const char *path, int timeout_secs) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t n = strlen(path);
  if (n >= sizeof addr.sun_path) return -1;
  memcpy(addr.sun_path, path, n + 1);
  // CLOEXEC: an exec'd compiler must not inherit the socket.
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  // A daemon whose backlog is full makes a blocking connect wait; SO_SNDTIMEO bounds that
  // wait by the same deadline. The exchange itself is non-blocking, paced by poll.
  struct timeval tv = {.tv_sec = timeout_secs, .tv_usec = 0};
  int flags;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
      (flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int decode_reply(const unsigned char *p, size_t n, struct reply *r) {
  memset(r, 0, sizeof *r);
  if (n < 1) return -1;
  size_t at = 1;
  if (p[0] == 0) {
    if (n - at < 4) return -1;
    r->exit_code = (int32_t)get_u32(p + at);
    at += 4;
    const unsigned char **dst[2] = {&r->out, &r->err};
    uint32_t *len[2] = {&r->out_len, &r->err_len};
    for (int i = 0; i < 2; i++) {
      if (n - at < 4) return -1;
      uint32_t k = get_u32(p + at);
      at += 4;
      if (n - at < k) return -1;
      *dst[i] = p + at;
      *len[i] = k;
      at += k;
    }
  } else if (p[0] == 1) {
    r->run_local = 1;
    if (n - at < 4) return -1;
    uint32_t k = get_u32(p + at);
    at += 4;
    if (n - at < k) return -1;
    r->compiler = p + at;
    r->compiler_len = k;
    at += k;
  } else {
    return -1;
  }
  return at == n ? 0 : -1;
}

int exchange(const char *socket_path, const struct buf *frame, int timeout_secs, uint16_t version,
             unsigned char **payload, struct reply *r) {
  *payload = NULL;
  silent_daemon = 0;
  int fd = connect_to(socket_path, timeout_secs);
  if (fd < 0) return -1;
  int64_t timeout_ms = (int64_t)timeout_secs * 1000;
  int rc = -1;
  if (send_all(fd, frame->p, frame->len, timeout_ms) != 0) goto done;
  for (;;) {
    unsigned char h[FRAME_HEADER_BYTES];
    if (recv_all(fd, h, sizeof h, timeout_ms) != 0) goto done;
    uint32_t magic = get_u32(h), len = get_u32(h + 8);
    uint16_t ver = (uint16_t)(h[4] | h[5] << 8), kind = (uint16_t)(h[6] | h[7] << 8);
    if (magic != FRAME_MAGIC || ver != version || len > MAX_FRAME_BYTES) goto done;
    if (kind == KIND_PROGRESS && len == 0) continue;
    if (kind != KIND_COMPILE_REPLY) goto done;
    *payload = malloc(len == 0 ? 1 : len);
    if (*payload == NULL || recv_all(fd, *payload, len, timeout_ms) != 0) goto done;
    rc = decode_reply(*payload, len, r);
    goto done;
  }
done:
  close(fd);
  if (rc != 0) {
    free(*payload);
    *payload = NULL;
    if (silent_daemon) rc = EXCHANGE_SILENT;
  }
  return rc;
}

int write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t k = write(fd, p, n);
    if (k > 0) {
      p += k;
      n -= (size_t)k;
    } else if (k < 0 && errno == EINTR) {
      continue;
    } else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Someone left our stdout non-blocking (a shared pipe): wait until it drains.
      struct pollfd pfd = {.fd = fd, .events = POLLOUT, .revents = 0};
      if (poll(&pfd, 1, -1) < 0 && errno != EINTR) return -1;
    } else {
      return -1;
    }
  }
  return 0;
}
