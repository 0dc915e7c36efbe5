/**
 * Framing of syslog messages on a byte stream (RFC 6587). Octet-counting (`LEN SP MSG`) carries
 * any content, newlines included. Newline framing ends each message with LF. A message that holds
 * a line break (only kv with SYSLOG_KV_QUOTE none/auto/always, or STRUCTURED-DATA, can) has it
 * escaped as the two characters `\n` (and CR as `\r`) to keep it ONE message, and each backslash
 * as `\\`. Every other message goes as it is: CEF, LEEF, JSON and the default kv escape their own
 * line breaks (reversibly), and a second escaping would break them for the SIEM's parser.
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
  // Only a message that holds a line break is escaped: a CEF, LEEF or JSON body (which escape
  // their own) reaches the SIEM byte for byte.
  if (!message.includes(LF) && !message.includes(CR)) {
    o += message.copy(dst, o);
    dst[o++] = LF;
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
