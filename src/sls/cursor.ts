/**
 * SLS cursors are base64 of the ASCII decimal of a signed 64-bit integer, often above 2^53,
 * so they are compared as BigInt. Cursors are passed back to SLS verbatim; decoding is only
 * for validation, comparison and counting.
 */

const DECIMAL_INT64 = /^-?\d{1,19}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Returns the cursor's position, or undefined if it is not a well-formed SLS cursor. */
export function decodeCursor(cursor: string): bigint | undefined {
  if (!BASE64.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64').toString('latin1');
  if (!DECIMAL_INT64.test(text)) return undefined;
  const value = BigInt(text);
  if (value > 0x7fffffffffffffffn || value < -0x8000000000000000n) return undefined;
  return value;
}

export function encodeCursor(position: bigint): string {
  return Buffer.from(position.toString(), 'latin1').toString('base64');
}
