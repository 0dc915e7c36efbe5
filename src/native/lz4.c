/*
 * LZ4 raw block decoding (no frame, no size prefix): SLS sends PullLogs bodies as one block whose
 * decoded size is in `x-log-bodyrawsize`. Same checks as src/decode/lz4.ts, with 8- and 16-byte
 * copies; test/kernel-lz4.test.ts holds it to lz4js and to the JavaScript decoder.
 */
#include "bytes.h"

/* A length of 15 goes on in bytes of 255 and one last byte below it; 0 if that runs off the end. */
static inline int extend_length(const u8 *src, u32 src_len, u32 *s, u32 *length) {
  u8 b;
  do {
    if (*s >= src_len) return 0;
    b = src[(*s)++];
    *length += b;
  } while (b == 255);
  return 1;
}

/*
 * LZ4 raw block decoding into dst (exactly raw_size bytes). Returns 0, or -1 if corrupt.
 * Both src and dst must be followed by SLACK spare bytes (wild copies).
 */
EXPORT(lz4_decode) i32 lz4_decode(u32 src_ptr, u32 src_len, u32 dst_ptr, u32 raw_size) {
  const u8 *src = (const u8 *)(uintptr_t)src_ptr;
  u8 *dst = (u8 *)(uintptr_t)dst_ptr;
  u32 s = 0, d = 0;
  while (s < src_len) {
    u8 token = src[s++];
    u32 literals = token >> 4;
    if (literals == 15 && !extend_length(src, src_len, &s, &literals)) return -1;
    if (literals > src_len - s || literals > raw_size - d) return -1;
    copy_wild(dst + d, src + s, literals);
    s += literals;
    d += literals;
    if (s >= src_len) break;
    if (src_len - s < 2) return -1;
    u32 offset = (u32)src[s] | ((u32)src[s + 1] << 8);
    s += 2;
    if (offset == 0 || offset > d) return -1;
    u32 length = token & 15;
    if (length == 15 && !extend_length(src, src_len, &s, &length)) return -1;
    length += 4;
    if (length > raw_size - d) return -1;
    u8 *o = dst + d;
    const u8 *from = o - offset;
    if (offset >= 16) {
      /* 16 bytes at a time (a step reads only bytes written before it: offset >= 16). */
      for (u32 i = 0; i < length; i += 16) __builtin_memcpy(o + i, from + i, 16);
    } else if (offset >= 8) {
      for (u32 i = 0; i < length; i += 8) __builtin_memcpy(o + i, from + i, 8);
    } else {
      for (u32 i = 0; i < length; i++) o[i] = from[i];
    }
    d += length;
  }
  return d == raw_size ? 0 : -1;
}
