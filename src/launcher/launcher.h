// Shared declarations of the native launcher (see launcher.c for what it may and may not do).
#ifndef ZCCACHE_LAUNCHER_H
#define ZCCACHE_LAUNCHER_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

// Wire constants of src/protocol/frame.ts (protocol version 2); the 12-byte header layout
// never changes across versions, so a mismatch is detected before anything else is read.
#define FRAME_MAGIC 0x4643435aU
#define PROTOCOL_VERSION 2
#define FRAME_HEADER_BYTES 12
#define MAX_FRAME_BYTES (64u * 1024u * 1024u)
#define KIND_JSON 0
#define KIND_COMPILE_REQUEST 1
#define KIND_COMPILE_REPLY 2
#define KIND_PROGRESS 3

#ifndef ZCCACHE_VERSION
#define ZCCACHE_VERSION "0.0.0"
#endif

struct buf {
  unsigned char *p;
  size_t len, cap;
};

/** The reply to a compile request, pointing into the frame payload it was decoded from. */
struct reply {
  int run_local;
  int32_t exit_code;
  const unsigned char *out, *err, *compiler;
  uint32_t out_len, err_len, compiler_len;
};

void sha256_hex(const unsigned char *data, size_t len, char out[65]);

enum verdict { DIR_ABSENT, DIR_PRIVATE, DIR_REFUSED };

/**
 * Cache root, runtime dir and socket path exactly as endpointFor() derives them, and the
 * runtime dir's verdict; 0 on success (the strings are then the caller's to free).
 */
int endpoint_paths(char **cache_root, char **runtime_dir, char **socket_path, enum verdict *v);
enum verdict runtime_dir_verdict(const char *dir);

/** Appends to a growable buffer; 0 on success, -1 when out of memory. */
int buf_put(struct buf *b, const void *p, size_t n);
int buf_u32(struct buf *b, uint32_t v);
int buf_str(struct buf *b, const char *s, size_t n);

/** exchange() result when the daemon stayed silent for the whole deadline. */
#define EXCHANGE_SILENT (-2)
/**
 * Sends one frame and waits for the compile reply, ignoring progress frames; every silence
 * longer than timeout_secs ends the wait. On success *payload holds the kind-2 payload and
 * the reply points into it; EXCHANGE_SILENT after such a silence, -1 for anything else (the
 * caller hands over to the TS program).
 */
int exchange(const char *socket_path, const struct buf *frame, int timeout_secs, uint16_t version,
             unsigned char **payload, struct reply *r);
int decode_reply(const unsigned char *p, size_t n, struct reply *r);
/** Writes everything, through partial writes, EINTR and EAGAIN (a non-blocking pipe). */
int write_all(int fd, const unsigned char *p, size_t n);

#endif
