/**
 * Framing of syslog messages on a byte stream (RFC 6587). Octet-counting (`LEN SP MSG`) carries
 * any content, newlines included. Newline framing ends each message with LF, so newlines inside
 * a record are escaped as the two characters `\n` (and CR as `\r`) to keep it ONE message, and a
 * backslash as `\\`, so the escaping is reversible: a value that already held `\n` (a Windows
 * path, a regex) reads back as those two characters, not as a newline.
 */
import type { Framing } from '../../format/encoding';

const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const SPACE = 0x20;

/** Most bytes a framed message can take: the prefix is at most 10 digits and a space; escaping doubles. */
export function maxFramedLength(framing: Framing, messageLength: number): number {
  return framing === 'newline' ? messageLength * 2 + 1 : framing === 'none' ? messageLength : messageLength + 11;
}

/** Writes the framed message into dst at `at` (room: maxFramedLength); returns the end offset. */
export function frameInto(framing: Framing, message: Buffer, dst: Buffer, at: number): number {
  let o = at;
  if (framing === 'none') return at + message.copy(dst, at); // concatenated (HEC events)
  if (framing === 'octet-counting') {
    const digits = String(message.length);
    for (let i = 0; i < digits.length; i++) dst[o++] = digits.charCodeAt(i);
    dst[o++] = SPACE;
    if (message.length < 64) for (let i = 0; i < message.length; i++) dst[o++] = message[i]!;
    else {
      message.copy(dst, o);
      o += message.length;
    }
    return o;
  }
  for (let i = 0; i < message.length; i++) {
    const b = message[i]!;
    if (b === LF || b === CR || b === BACKSLASH) {
      dst[o++] = BACKSLASH;
      dst[o++] = b === LF ? 0x6e : b === CR ? 0x72 : BACKSLASH; // 'n' / 'r' / '\'
    } else dst[o++] = b;
  }
  dst[o++] = LF;
  return o;
}
