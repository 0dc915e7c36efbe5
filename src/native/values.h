/*
 * Value helpers of the kernel: UTF-8 validation with the kv quoting rule (body.ts's
 * kvNeedsQuotes, JavaScript's \s included), UTF-8 repair, and the table-driven escapes; included
 * by kernel.c.
 */
#ifndef SLS_FORWARDER_VALUES_H
#define SLS_FORWARDER_VALUES_H

#include "bytes.h"

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
  u8 len[128];     /* ESC_COPY, 1-7 (replacement length) or ESC_HAND_BACK */
  u8 rep[128][8];
  u8 widest;       /* the longest replacement: a value grows at most this many times */
  /* A fast superset test of "some byte needs the table": bytes < 0x20, up to four others, >= 0x80. */
  u8 controls, some[4], nsome, any_other;
  u64 filler; /* eight copies of a byte the test never takes: pads a value's last word */
} escape_table;

enum { ESC_BODY = 0, ESC_SD = 1, ESC_HEADER = 2, ESC_TABLES = 3 };
static escape_table escapes[ESC_TABLES];

/* Reads a table written by JS: per byte 0-127, a length byte then that many replacement bytes. */
static const u8 *read_escape_table(escape_table *t, const u8 *p) {
  u32 others = 0;
  t->widest = 1;
  t->controls = 0;
  t->any_other = 0;
  for (u32 b = 0; b < 128; b++) {
    u8 n = *p++;
    t->len[b] = n;
    if (n == ESC_COPY) continue;
    if (n != ESC_HAND_BACK) {
      for (u32 i = 0; i < n && i < 8; i++) t->rep[b][i] = p[i];
      p += n;
      if (n > t->widest) t->widest = n;
    }
    if (b < 0x20) t->controls = 1;
    else if (others < 4) t->some[others++] = (u8)b;
    else t->any_other = 1; /* more than four: the byte-by-byte test */
  }
  t->nsome = (u8)others;
  for (u32 i = others; i < 4; i++) t->some[i] = others ? t->some[0] : 0x80; /* repeats change nothing */
  u8 plain = 'A';
  while (plain < 0x7f && (t->len[plain] != ESC_COPY || plain == t->some[0] || plain == t->some[1] || plain == t->some[2] || plain == t->some[3])) plain++;
  t->filler = 0x0101010101010101ull * plain;
  return p;
}

static inline u64 has_byte(u64 v, u8 b) {
  const u64 ones = 0x0101010101010101ull;
  u64 x = v ^ (ones * b);
  return (x - ones) & ~x & (ones * 0x80);
}

/* SWAR over 8 bytes: any byte the table may change (its `k` printable ones, controls), or one >= 0x80 (to validate)? */
static inline __attribute__((always_inline)) u64 special8(const escape_table *t, u64 v, const u32 k) {
  const u64 ones = 0x0101010101010101ull;
  u64 hit = v;
  if (k > 0) hit |= has_byte(v, t->some[0]);
  if (k > 1) hit |= has_byte(v, t->some[1]);
  if (k > 2) hit |= has_byte(v, t->some[2]);
  if (k > 3) hit |= has_byte(v, t->some[3]);
  if (t->controls) hit |= (v - ones * 0x20) & ~v;
  return hit & (ones * 0x80);
}

static inline __attribute__((always_inline)) int any_special(const escape_table *t, const u8 *s, u32 n, const u32 k) {
  u32 i = 0;
  for (; i + 8 <= n; i += 8)
    if (special8(t, load64(s + i), k)) return 1;
  if (i < n) {
    u64 mask = ~0ull >> (64 - 8 * (n - i));
    if (special8(t, (load64(s + i) & mask) | (t->filler & ~mask), k)) return 1;
  }
  return 0;
}

/* Whether a value needs more than a plain copy: escapes, or non-ASCII bytes to validate. */
static int needs_work(const escape_table *t, const u8 *s, u32 n) {
  switch (t->any_other ? 5 : t->nsome) {
    case 0: return any_special(t, s, n, 0);
    case 1: return any_special(t, s, n, 1);
    case 2: return any_special(t, s, n, 2);
    case 3: return any_special(t, s, n, 3);
    case 4: return any_special(t, s, n, 4);
    default:
      for (u32 i = 0; i < n; i++)
        if (s[i] >= 0x80 || t->len[s[i]] != ESC_COPY) return 1;
      return 0;
  }
}

/* The value with the table's escapes (bytes >= 0x80 copied: known to be valid UTF-8); returns the
 * bytes written, or -1 if a byte is one the reference must take. Room: widest * n, checked by the caller. */
static i32 write_escaped(const escape_table *t, u8 *o, const u8 *src, u32 n) {
  u8 *start = o;
  for (u32 i = 0; i < n; i++) {
    u8 b = src[i];
    u8 len = b < 0x80 ? t->len[b] : ESC_COPY;
    if (len == ESC_COPY) *o++ = b;
    else if (len == ESC_HAND_BACK) return -1;
    else {
      for (u32 k = 0; k < len; k++) o[k] = t->rep[b][k];
      o += len;
    }
  }
  return (i32)(o - start);
}

#endif
