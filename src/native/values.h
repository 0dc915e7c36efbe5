/*
 * Value helpers of the kernel: UTF-8 validation with the kv quoting rule (body.ts's
 * kvNeedsQuotes, JavaScript's \s included), UTF-8 repair, and the table-driven escapes; included
 * by kernel.c.
 */
#ifndef SLS_FORWARDER_VALUES_H
#define SLS_FORWARDER_VALUES_H

#include "bytes.h"
#include <wasm_simd128.h>

/* The characters that make `auto` quote (body.ts's KV_QUOTE_TRIGGER, told by JS): a map of the
 * ASCII ones, and the others as their UTF-8 bytes packed into a number (JavaScript's \s). */
#define MAX_QUOTE_WIDE 64
static u8 quote_ascii[128];
static u32 quote_wide[MAX_QUOTE_WIDE], quote_wide_count;

static const u8 *read_quote_triggers(const u8 *p, u32 wide) {
  for (u32 b = 0; b < 128; b++) quote_ascii[b] = p[b];
  p += 128;
  quote_wide_count = wide < MAX_QUOTE_WIDE ? wide : MAX_QUOTE_WIDE;
  for (u32 i = 0; i < quote_wide_count; i++, p += 4) quote_wide[i] = (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
  return p;
}

static int quote_trigger_wide(const u8 *c, u32 len) {
  u32 packed = 0;
  for (u32 k = 0; k < len; k++) packed = packed << 8 | c[k];
  for (u32 i = 0; i < quote_wide_count; i++)
    if (quote_wide[i] == packed) return 1;
  return 0;
}

/* A UTF-8 lead byte: how many continuation bytes follow it (0: not a lead byte), and the range the
 * first one must be in (excluding overlong forms, surrogates and code points past U+10FFFF). */
static inline u32 utf8_lead(u8 b, u8 *lo, u8 *hi) {
  *lo = 0x80;
  *hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) return 1;
  if (b >= 0xe0 && b <= 0xef) {
    if (b == 0xe0) *lo = 0xa0;
    else if (b == 0xed) *hi = 0x9f;
    return 2;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    if (b == 0xf0) *lo = 0x90;
    else if (b == 0xf4) *hi = 0x8f;
    return 3;
  }
  return 0;
}

/* Value scan: 0 = valid UTF-8, no quoting needed; 1 = valid, needs quotes (auto); -1 = invalid UTF-8. */
static int scan_value(const u8 *s, u32 n, int check_quotes, const u8 *separator, u32 separator_len) {
  u32 i = 0;
  int quote = 0;
  if (check_quotes && n == 0) return 1;
  while (i < n) {
    if (!check_quotes) {
      /* Only UTF-8 validity: skip ASCII eight bytes at a time. */
      while (i + 16 <= n) {
        u64 v, w;
        __builtin_memcpy(&v, s + i, 8);
        __builtin_memcpy(&w, s + i + 8, 8);
        if ((v | w) & 0x8080808080808080ull) break;
        i += 16;
      }
      while (i + 8 <= n) {
        u64 v;
        __builtin_memcpy(&v, s + i, 8);
        if (v & 0x8080808080808080ull) break;
        i += 8;
      }
      if (i >= n) break;
    }
    u8 b = s[i];
    if (b < 0x80) {
      if (check_quotes && quote_ascii[b]) quote = 1;
      i++;
      continue;
    }
    u8 lo, hi;
    u32 extra = utf8_lead(b, &lo, &hi);
    if (!extra) return -1;
    if (i + extra >= n) return -1;
    u8 c1 = s[i + 1];
    if (c1 < lo || c1 > hi) return -1;
    for (u32 k = 2; k <= extra; k++)
      if ((s[i + k] & 0xc0) != 0x80) return -1;
    if (check_quotes && !quote && quote_trigger_wide(s + i, extra + 1)) quote = 1;
    i += extra + 1;
  }
  if (check_quotes && !quote && separator_len && n >= separator_len) {
    u8 first = separator[0];
    for (u32 j = 0; j + separator_len <= n; j++)
      if (s[j] == first && same_bytes(s + j, separator, separator_len)) return 1;
  }
  return quote;
}

/* Writes s[0, n) with each maximal ill-formed UTF-8 subsequence replaced by U+FFFD (WHATWG's
 * decoder, which Buffer#toString follows); returns the bytes written (at most 3n). */
static u32 repair_utf8(u8 *o, const u8 *s, u32 n) {
  u8 *start = o;
  u32 i = 0;
  while (i < n) {
    u8 b = s[i];
    if (b < 0x80) {
      *o++ = b;
      i++;
      continue;
    }
    u8 lo, hi;
    u32 need = utf8_lead(b, &lo, &hi);
    u32 k = 1;
    while (k <= need && i + k < n && s[i + k] >= lo && s[i + k] <= hi) {
      lo = 0x80;
      hi = 0xbf;
      k++;
    }
    if (need && k == need + 1) {
      for (u32 j = 0; j < k; j++) *o++ = s[i + j];
    } else {
      *o++ = 0xef;
      *o++ = 0xbf;
      *o++ = 0xbd;
    }
    i += k;
  }
  return (u32)(o - start);
}

/*
 * Escapes are tables made by src/format/escapes.ts (the rules the reference engine applies), one
 * per place a value goes: the body (JSON, CEF/LEEF values, quoted kv), STRUCTURED-DATA, the CEF/LEEF
 * header. For each ASCII byte: its replacement (1-7 bytes), a plain copy, or "the reference takes
 * this record". The kernel applies the table; it knows no escape of its own.
 */
#define ESC_COPY 0
#define ESC_HAND_BACK 0xff
typedef struct {
  /*
   * The exact test of "this byte needs the table", 16 bytes at a time (nibble classification):
   * an ASCII byte b needs it iff lo_mask[b & 15] & hi_mask[b >> 4] != 0; each distinct set of
   * low nibbles under a high nibble 0-7 has a bit (at most eight). Bytes >= 0x80 always count
   * (they are validated as UTF-8): their own test, the sign bit.
   */
  v128_t lo_mask, hi_mask;
  u8 len[128];     /* ESC_COPY, 1-7 (replacement length) or ESC_HAND_BACK */
  u8 rep[128][8];
  u8 widest;       /* the longest replacement: a value grows at most this many times */
} escape_table;

enum { ESC_BODY = 0, ESC_SD = 1, ESC_HEADER = 2, ESC_TABLES = 3 };
static escape_table escapes[ESC_TABLES];

/* Builds the table's nibble masks (see escape_table). */
static void nibble_masks(escape_table *t) {
  u8 lo[16] = {0}, hi[16] = {0};
  uint16_t distinct[8];
  u32 count = 0;
  for (u32 h = 0; h < 8; h++) {
    uint16_t set = 0;
    for (u32 l = 0; l < 16; l++)
      if (t->len[h * 16 + l] != ESC_COPY) set |= (uint16_t)(1u << l);
    if (!set) continue;
    u32 bit = 0;
    while (bit < count && distinct[bit] != set) bit++;
    if (bit == count) distinct[count++] = set;
    hi[h] |= (u8)(1u << bit);
    for (u32 l = 0; l < 16; l++)
      if (set & (1u << l)) lo[l] |= (u8)(1u << bit);
  }
  t->lo_mask = wasm_v128_load(lo);
  t->hi_mask = wasm_v128_load(hi);
}

/* Which of 16 bytes need the table or are >= 0x80 (nonzero lanes). */
static inline __attribute__((always_inline)) v128_t special16(const escape_table *t, v128_t v) {
  v128_t lo = wasm_v128_and(v, wasm_i8x16_splat(0x0f));
  v128_t hi = wasm_u8x16_shr(v, 4);
  v128_t ascii = wasm_v128_and(wasm_i8x16_swizzle(t->lo_mask, lo), wasm_i8x16_swizzle(t->hi_mask, hi));
  return wasm_v128_or(ascii, wasm_i8x16_lt(v, wasm_i8x16_splat(0)));
}

/* Lanes 0 to n-1 set (n <= 16): the valid bytes of a value's last, partial step. */
static inline v128_t first_lanes(u32 n) {
  const v128_t lanes = wasm_i8x16_make(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  return wasm_i8x16_lt(lanes, wasm_i8x16_splat((int8_t)n));
}

/* Reads a table written by JS: per byte 0-127, a length byte then that many replacement bytes. */
static const u8 *read_escape_table(escape_table *t, const u8 *p) {
  t->widest = 1;
  for (u32 b = 0; b < 128; b++) {
    u8 n = *p++;
    t->len[b] = n;
    if (n == ESC_COPY || n == ESC_HAND_BACK) continue;
    for (u32 i = 0; i < n && i < 8; i++) t->rep[b][i] = p[i];
    p += n;
    if (n > t->widest) t->widest = n;
  }
  nibble_masks(t);
  return p;
}

/* Whether a value needs more than a plain copy: escapes, or non-ASCII bytes to validate. (Inputs keep 16 bytes of slack.) */
static int needs_work(const escape_table *t, const u8 *s, u32 n) {
  u32 i = 0;
  for (; i + 16 <= n; i += 16)
    if (wasm_v128_any_true(special16(t, wasm_v128_load(s + i)))) return 1;
  return i < n && wasm_v128_any_true(wasm_v128_and(special16(t, wasm_v128_load(s + i)), first_lanes(n - i)));
}

/* Copies n bytes (16 at a time: dst and src keep 16 bytes of slack) and says whether any needs the table. */
static inline __attribute__((always_inline)) int copy_special(const escape_table *t, u8 *dst, const u8 *src, u32 n) {
  v128_t hits = wasm_i8x16_splat(0);
  u32 i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t w = wasm_v128_load(src + i);
    wasm_v128_store(dst + i, w);
    hits = wasm_v128_or(hits, special16(t, w));
  }
  if (i < n) {
    v128_t w = wasm_v128_load(src + i);
    wasm_v128_store(dst + i, w);
    hits = wasm_v128_or(hits, wasm_v128_and(special16(t, w), first_lanes(n - i)));
  }
  return wasm_v128_any_true(hits);
}

/*
 * An ASCII value with the table's escapes, 16 bytes at a time: plain runs copied whole, each
 * special byte replaced. Returns the bytes written, or -1 for a byte >= 0x80 (the caller's
 * validating path) or one the reference must take. Room: widest * n (and the 16 bytes of slack).
 */
static inline i32 escape_ascii(const escape_table *t, u8 *o, const u8 *src, u32 n) {
  u8 *start = o;
  for (u32 i = 0; i < n; i += 16) {
    u32 count = n - i < 16 ? n - i : 16;
    u32 valid = count == 16 ? 0xffffu : (1u << count) - 1;
    v128_t w = wasm_v128_load(src + i);
    if (wasm_i8x16_bitmask(w) & valid) return -1;
    u32 special = wasm_i8x16_bitmask(wasm_i8x16_ne(special16(t, w), wasm_i8x16_splat(0))) & valid;
    u32 pos = 0;
    while (special) {
      u32 j = (u32)__builtin_ctz(special);
      special &= special - 1;
      wasm_v128_store(o, wasm_v128_load(src + i + pos));
      o += j - pos;
      u8 b = src[i + j];
      if (t->len[b] == ESC_HAND_BACK) return -1;
      __builtin_memcpy(o, t->rep[b], 8);
      o += t->len[b];
      pos = j + 1;
    }
    wasm_v128_store(o, wasm_v128_load(src + i + pos));
    o += count - pos;
  }
  return (i32)(o - start);
}

/*
 * The value with the table's escapes (bytes >= 0x80 copied: known to be valid UTF-8); returns the
 * bytes written, or -1 if a byte is one the reference must take. Plain 16-byte steps are copied
 * whole. Room: widest * n, checked by the caller (and the 16 bytes of slack).
 */
static i32 write_escaped(const escape_table *t, u8 *o, const u8 *src, u32 n) {
  u8 *start = o;
  u32 i = 0;
  while (i < n) {
    for (; i + 16 <= n; i += 16) {
      v128_t w = wasm_v128_load(src + i);
      /* Bytes >= 0x80 are copied here (the value was validated): only the table's own bits count. */
      if (wasm_v128_any_true(wasm_v128_and(wasm_i8x16_swizzle(t->lo_mask, wasm_v128_and(w, wasm_i8x16_splat(0x0f))), wasm_i8x16_swizzle(t->hi_mask, wasm_u8x16_shr(w, 4))))) break;
      wasm_v128_store(o, w);
      o += 16;
    }
    u32 stop = i + 16 < n ? i + 16 : n;
    for (; i < stop; i++) {
      u8 b = src[i];
      u8 len = b < 0x80 ? t->len[b] : ESC_COPY;
      if (len == ESC_COPY) *o++ = b;
      else if (len == ESC_HAND_BACK) return -1;
      else {
        __builtin_memcpy(o, t->rep[b], 8);
        o += len;
      }
    }
  }
  return (i32)(o - start);
}

#endif
