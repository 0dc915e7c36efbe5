/* Decimal digits for frame prefixes, record ids and timestamps. Included by kernel.c. */
#ifndef SLS_FORWARDER_DIGITS_H
#define SLS_FORWARDER_DIGITS_H

#include "bytes.h"

static u32 decimal_length(u32 x) {
  u32 n = 1;
  for (u32 p = 10; n < 10 && x >= p; p *= 10) n++;
  return n;
}

/* x in decimal at o; returns the number of digits. */
static u32 write_decimal(u8 *o, u32 x) {
  u32 n = decimal_length(x);
  for (u32 i = n; i > 0; i--) {
    o[i - 1] = '0' + (u8)(x % 10);
    x /= 10;
  }
  return n;
}

static inline u8 *two_digits(u8 *p, u32 n) {
  p[0] = '0' + (u8)(n / 10);
  p[1] = '0' + (u8)(n % 10);
  return p + 2;
}

#endif
