/*
 * Byte helpers shared by the kernel's C files: fixed-width types, export/import markers, and
 * copies and compares that work 8 or 16 bytes at a time. The "wild" ones read and write up to
 * 15 bytes past the end: every buffer they touch is followed by SLACK spare bytes.
 */
#ifndef SLS_FORWARDER_BYTES_H
#define SLS_FORWARDER_BYTES_H

#include <stdint.h>

typedef uint8_t u8;
typedef uint32_t u32;
typedef int32_t i32;
typedef uint64_t u64;

#define EXPORT(name) __attribute__((export_name(#name)))
#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))

#define SLACK 64

/*
 * Copies n bytes in 16-byte steps: may read and write up to 15 bytes past the end, which the
 * SLACK after every region (and the bytes still to be written) absorb.
 */
static inline void copy_wild(u8 *dst, const u8 *src, u32 n) {
  if (n > 64) {
    __builtin_memcpy(dst, src, n);
    return;
  }
  for (u32 i = 0; i < n; i += 16) __builtin_memcpy(dst + i, src + i, 16);
}

static inline void copy_bytes(u8 *dst, const u8 *src, u32 n) {
  if (n >= 32) {
    __builtin_memcpy(dst, src, n);
    return;
  }
  while (n >= 8) {
    u64 v;
    __builtin_memcpy(&v, src, 8);
    __builtin_memcpy(dst, &v, 8);
    dst += 8;
    src += 8;
    n -= 8;
  }
  while (n--) *dst++ = *src++;
}

static inline u64 load64(const u8 *p) {
  u64 v;
  __builtin_memcpy(&v, p, 8);
  return v;
}

/* The low n bytes (n < 8) of a little-endian word. */
static inline u64 low_bytes(u64 v, u32 n) { return n ? v & (~0ull >> (64 - 8 * n)) : 0; }

static inline int same_bytes(const u8 *a, const u8 *b, u32 n) {
  while (n >= 8) {
    u64 x, y;
    __builtin_memcpy(&x, a, 8);
    __builtin_memcpy(&y, b, 8);
    if (x != y) return 0;
    a += 8;
    b += 8;
    n -= 8;
  }
  while (n--)
    if (*a++ != *b++) return 0;
  return 1;
}

/* Equality of n bytes; reads up to 16 bytes from both (SLACK covers it). */
static inline int same_key(const u8 *a, const u8 *b, u32 n) {
  if (n <= 8) return low_bytes(load64(a) ^ load64(b), n & 7) == 0 && (n < 8 || load64(a) == load64(b));
  if (n <= 16) return load64(a) == load64(b) && low_bytes(load64(a + 8) ^ load64(b + 8), n & 7) == 0 && (n < 16 || load64(a + 8) == load64(b + 8));
  return same_bytes(a, b, n);
}


/*
 * copy_wild that also tells whether any of the n bytes is non-ASCII (the bytes read past n are
 * masked off): for the unquoted case, validating and copying in one pass.
 */
static inline u64 copy_wild_high(u8 *dst, const u8 *src, u32 n) {
  u64 acc = 0;
  u32 i = 0;
  for (; i + 16 <= n; i += 16) {
    u64 v = load64(src + i), w = load64(src + i + 8);
    __builtin_memcpy(dst + i, &v, 8);
    __builtin_memcpy(dst + i + 8, &w, 8);
    acc |= v | w;
  }
  if (i < n) {
    u32 r = n - i;
    u64 v = load64(src + i), w = load64(src + i + 8);
    __builtin_memcpy(dst + i, &v, 8);
    __builtin_memcpy(dst + i + 8, &w, 8);
    acc |= r >= 8 ? v | low_bytes(w, r - 8) : low_bytes(v, r);
  }
  return acc & 0x8080808080808080ull;
}

#endif
