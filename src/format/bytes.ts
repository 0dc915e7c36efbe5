/**
 * Byte-level building blocks of the fast formatter: a growable output buffer, and a copy that
 * validates UTF-8 and escapes ASCII specials in one pass. Short spans are copied in JavaScript:
 * a native Buffer call costs ~100-200 ns, more than copying a typical 20-byte field by hand.
 */
import { isUtf8 } from 'node:buffer';

/** Replacement bytes for ASCII bytes that must be escaped (index = byte value, 0-127). */
export type EscapeTable = Array<Uint8Array | undefined>;

const NATIVE_THRESHOLD = 96;

export class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** A string known to be ASCII (headers, numbers). */
  ascii(s: string): void {
    this.ensure(s.length);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Any string, UTF-8 encoded. */
  text(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    if (src.length < 64) {
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < src.length; i++) buf[p++] = src[i]!;
      this.pos = p;
    } else {
      this.buf.set(src, this.pos);
      this.pos += src.length;
    }
  }
}

/**
 * Copies src[s, e) into the writer, escaping per `esc`. Returns false (writer unchanged) if the
 * bytes are not valid UTF-8; the caller then takes the slow path, decoding with U+FFFD.
 */
export function copyUtf8(w: ByteWriter, src: Buffer, s: number, e: number, esc: EscapeTable | undefined): boolean {
  const len = e - s;
  if (!esc && len >= NATIVE_THRESHOLD) {
    if (!isUtf8(src.subarray(s, e))) return false;
    w.ensure(len);
    src.copy(w.buf, w.pos, s, e);
    w.pos += len;
    return true;
  }
  w.ensure(esc ? len * 6 : len);
  const out = w.buf;
  const start = w.pos;
  let o = start;
  let i = s;
  while (i < e) {
    const b = src[i]!;
    if (b < 0x80 && !esc) {
      out[o++] = b;
      i++;
      continue;
    }
    if (b < 0x80) {
      const rep = esc?.[b];
      if (rep) for (let k = 0; k < rep.length; k++) out[o++] = rep[k]!;
      else out[o++] = b;
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) n = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return false;
    if (i + n >= e) return false; // sequence runs past the end
    const c1 = src[i + 1]!;
    if (c1 < lo || c1 > hi) return false;
    for (let k = 2; k <= n; k++) if ((src[i + k]! & 0xc0) !== 0x80) return false;
    for (let k = 0; k <= n; k++) out[o++] = src[i + k]!;
    i += n + 1;
  }
  w.pos = o;
  return true;
}

/** copyUtf8, or, for invalid UTF-8, the bytes decoded with U+FFFD replacements (as Buffer#toString does). */
export function copyText(w: ByteWriter, src: Buffer, s: number, e: number, esc: EscapeTable | undefined): void {
  if (copyUtf8(w, src, s, e, esc)) return;
  const fixed = Buffer.from(src.toString('utf8', s, e), 'utf8');
  copyUtf8(w, fixed, 0, fixed.length, esc);
}

export function escapeTable(map: Record<number, string>): EscapeTable {
  const table: EscapeTable = new Array(128).fill(undefined);
  for (const [b, rep] of Object.entries(map)) table[Number(b)] = Buffer.from(rep, 'latin1');
  return table;
}

/** Exactly what JSON.stringify does to ASCII inside a string. */
export const JSON_ESCAPES: EscapeTable = (() => {
  const map: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t' };
  for (let c = 0; c < 0x20; c++) map[c] ??= `\\u${c.toString(16).padStart(4, '0')}`;
  return escapeTable(map);
})();

/** Inside a quoted kv value: `"` and `\` get a backslash. */
export const KV_QUOTED_ESCAPES: EscapeTable = escapeTable({ 0x22: '\\"', 0x5c: '\\\\' });

/**
 * copyUtf8 without the UTF-8 check: the fast formatter copies a whole record this way, validates
 * the finished message once with the native `isUtf8`, and redoes the record with copyText only if
 * that fails (rare: a producer wrote invalid UTF-8).
 */
export function copyUnchecked(w: ByteWriter, src: Buffer, s: number, e: number, esc: EscapeTable | undefined): void {
  const len = e - s;
  if (!esc) {
    w.ensure(len);
    if (len >= 64) src.copy(w.buf, w.pos, s, e);
    else {
      const out = w.buf;
      let o = w.pos;
      for (let i = s; i < e; i++) out[o++] = src[i]!;
    }
    w.pos += len;
    return;
  }
  w.ensure(len * 6);
  const out = w.buf;
  let o = w.pos;
  for (let i = s; i < e; i++) {
    const b = src[i]!;
    const rep = b < 0x80 ? esc[b] : undefined;
    if (rep) for (let k = 0; k < rep.length; k++) out[o++] = rep[k]!;
    else out[o++] = b;
  }
  w.pos = o;
}

export function isValidUtf8(buf: Buffer, start: number, end: number): boolean {
  return isUtf8(buf.subarray(start, end));
}
