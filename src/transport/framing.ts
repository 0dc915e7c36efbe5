/**
 * Framing of syslog messages on a byte stream (RFC 6587). Octet-counting (`LEN SP MSG`) carries
 * any content, newlines included. Newline framing ends each message with LF, so newlines inside
 * a record are escaped as the two characters `\n` (and CR as `\r`) to keep it ONE message.
 */
import type { Framing } from '../config';

export type Framer = (message: Buffer) => Buffer;

export function octetCountingFrame(message: Buffer): Buffer {
  const prefix = Buffer.from(`${message.length} `, 'latin1');
  return Buffer.concat([prefix, message], prefix.length + message.length);
}

const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;

export function newlineFrame(message: Buffer): Buffer {
  let extra = 0;
  for (let i = 0; i < message.length; i++) if (message[i] === LF || message[i] === CR) extra++;
  const out = Buffer.allocUnsafe(message.length + extra + 1);
  if (extra === 0) {
    message.copy(out, 0);
  } else {
    let o = 0;
    for (let i = 0; i < message.length; i++) {
      const b = message[i]!;
      if (b === LF || b === CR) {
        out[o++] = BACKSLASH;
        out[o++] = b === LF ? 0x6e : 0x72; // 'n' / 'r'
      } else out[o++] = b;
    }
  }
  out[out.length - 1] = LF;
  return out;
}

export function framerFor(framing: Framing): Framer {
  return framing === 'newline' ? newlineFrame : octetCountingFrame;
}
