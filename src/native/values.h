/*
 * Value helpers of the kernel: UTF-8 validation with the kv quoting rule (body.ts's
 * kvNeedsQuotes, JavaScript's \s included), kv quoting, and JSON string escaping as
 * JSON.stringify does it, STRUCTURED-DATA and CEF/LEEF escapes. Stateless but for LEEF's delimiter
 * (event_delim, set by configure_event); included by kernel.c.
 */
#ifndef SLS_FORWARDER_VALUES_H
#define SLS_FORWARDER_VALUES_H

#include "bytes.h"

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
      if (check_quotes && (b == 0x20 || (b >= 0x09 && b <= 0x0d) || b == '=' || b == '"' || b == '\\')) quote = 1;
      i++;
      continue;
    }
    u32 extra;
    u8 lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) extra = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      extra = 2;
      if (b == 0xe0) lo = 0xa0;
      else if (b == 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      extra = 3;
      if (b == 0xf0) lo = 0x90;
      else if (b == 0xf4) hi = 0x8f;
    } else return -1;
    if (i + extra >= n) return -1;
    u8 c1 = s[i + 1];
    if (c1 < lo || c1 > hi) return -1;
    for (u32 k = 2; k <= extra; k++)
      if ((s[i + k] & 0xc0) != 0x80) return -1;
    if (check_quotes) {
      /* Unicode whitespace, as JavaScript's \s sees it. */
      u8 c2 = extra >= 2 ? s[i + 2] : 0;
      if ((b == 0xc2 && c1 == 0xa0) || (b == 0xe1 && c1 == 0x9a && c2 == 0x80) ||
          (b == 0xe2 && c1 == 0x80 && ((c2 >= 0x80 && c2 <= 0x8a) || c2 == 0xa8 || c2 == 0xa9 || c2 == 0xaf)) ||
          (b == 0xe2 && c1 == 0x81 && c2 == 0x9f) || (b == 0xe3 && c1 == 0x80 && c2 == 0x80) ||
          (b == 0xef && c1 == 0xbb && c2 == 0xbf))
        quote = 1;
    }
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
    u32 need = 0;
    u8 lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b == 0xe0) lo = 0xa0;
      else if (b == 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b == 0xf0) lo = 0x90;
      else if (b == 0xf4) hi = 0x8f;
    }
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

/* Writes `src` as a kv value at o (room checked by the caller for the quoted worst case). */
static u32 write_value(u8 *o, const u8 *src, u32 n, int quoted) {
  if (!quoted) {
    copy_wild(o, src, n);
    return n;
  }
  u8 *start = o;
  *o++ = '"';
  for (u32 i = 0; i < n; i++) {
    u8 b = src[i];
    if (b == '"' || b == '\\') *o++ = '\\';
    *o++ = b;
  }
  *o++ = '"';
  return (u32)(o - start);
}

/* SWAR: does the 8-byte word hold a byte < 0x20, '"' or '\' (JSON must escape those) or >= 0x80? */
static inline u64 json_special(u64 v) {
  const u64 ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  u64 q = v ^ (ones * '"'), b = v ^ (ones * '\\');
  return (((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((b - ones) & ~b) | v) & high;
}

/* Whether any of n bytes is `special` (an 8-byte SWAR test); the bytes read past n become 'A'. */
static inline int any_special(const u8 *s, u32 n, u64 (*special)(u64)) {
  u32 i = 0;
  for (; i + 8 <= n; i += 8)
    if (special(load64(s + i))) return 1;
  if (i < n) {
    u64 mask = ~0ull >> (64 - 8 * (n - i));
    if (special((load64(s + i) & mask) | (0x4141414141414141ull & ~mask))) return 1;
  }
  return 0;
}

/* Whether a JSON string value needs more than a plain copy (escapes, or non-ASCII to validate). */
static int json_needs_work(const u8 *s, u32 n) { return any_special(s, n, json_special); }

static const u8 HEX[] = "0123456789abcdef";

/* A JSON string's content with JSON.stringify's escapes for ASCII (bytes known to be valid UTF-8). */
static u32 write_json_escaped(u8 *o, const u8 *src, u32 n) {
  u8 *start = o;
  for (u32 i = 0; i < n; i++) {
    u8 b = src[i];
    if (b >= 0x20 && b != '"' && b != '\\') {
      *o++ = b;
      continue;
    }
    *o++ = '\\';
    switch (b) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '\b': *o++ = 'b'; break;
      case '\f': *o++ = 'f'; break;
      case '\n': *o++ = 'n'; break;
      case '\r': *o++ = 'r'; break;
      case '\t': *o++ = 't'; break;
      default:
        o[0] = 'u';
        o[1] = '0';
        o[2] = '0';
        o[3] = HEX[b >> 4];
        o[4] = HEX[b & 15];
        o += 5;
    }
  }
  return (u32)(o - start);
}

/* SWAR: a byte STRUCTURED-DATA escapes (`"`, `\`, `]`) or one to validate (>= 0x80)? */
static inline u64 sd_special(u64 v) {
  const u64 ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  u64 q = v ^ (ones * '"'), b = v ^ (ones * '\\'), c = v ^ (ones * ']');
  return (((q - ones) & ~q) | ((b - ones) & ~b) | ((c - ones) & ~c) | v) & high;
}

/* Whether a PARAM-VALUE needs more than a plain copy. */
static int sd_needs_work(const u8 *s, u32 n) { return any_special(s, n, sd_special); }

/* A PARAM-VALUE with `"`, `\` and `]` escaped (structured-data.ts's sdParamValue). */
static u32 write_sd_escaped(u8 *o, const u8 *src, u32 n) {
  u8 *start = o;
  for (u32 i = 0; i < n; i++) {
    u8 b = src[i];
    if (b == '"' || b == '\\' || b == ']') *o++ = '\\';
    *o++ = b;
  }
  return (u32)(o - start);
}

/* Event (CEF/LEEF) values: CEF escapes `\` and `=`, LEEF `\` and its delimiter (a tab as `\t`);
 * both write CR and LF as `\r` and `\n` (event-formats.ts). `delim` is 0 for CEF. */
static inline u64 has_byte(u64 v, u8 b) {
  const u64 ones = 0x0101010101010101ull;
  u64 x = v ^ (ones * b);
  return (x - ones) & ~x & (ones * 0x80);
}

static u8 event_delim; /* set by configure_event */

static u64 event_special(u64 v) {
  u64 hit = has_byte(v, '\\') | has_byte(v, '\r') | has_byte(v, '\n') | (v & 0x8080808080808080ull);
  return hit | (event_delim ? has_byte(v, event_delim) : has_byte(v, '='));
}

static int event_needs_work(const u8 *s, u32 n) { return any_special(s, n, event_special); }

static u32 write_event_escaped(u8 *o, const u8 *src, u32 n) {
  u8 *start = o;
  for (u32 i = 0; i < n; i++) {
    u8 b = src[i];
    if (b == '\r' || b == '\n') {
      *o++ = '\\';
      *o++ = b == '\r' ? 'r' : 'n';
    } else if (b == '\\' || (event_delim ? b == event_delim : b == '=')) {
      *o++ = '\\';
      *o++ = b == '\t' ? 't' : b;
    } else *o++ = b;
  }
  return (u32)(o - start);
}

/* A CEF header value (event id or name): `\` and `|` escaped, CR LF / CR / LF as one space. */
static u32 write_cef_header(u8 *o, const u8 *src, u32 n) {
  u8 *start = o;
  for (u32 i = 0; i < n; i++) {
    u8 b = src[i];
    if (b == '\r' || b == '\n') {
      if (b == '\r' && i + 1 < n && src[i + 1] == '\n') i++;
      *o++ = ' ';
    } else {
      if (b == '\\' || b == '|') *o++ = '\\';
      *o++ = b;
    }
  }
  return (u32)(o - start);
}

#endif
