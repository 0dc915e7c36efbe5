/**
 * LZ4 raw block decoder (no frame, no size prefix): SLS sends PullLogs bodies as one block
 * whose decoded size is in `x-log-bodyrawsize`. Node has no built-in LZ4, and a native addon
 * is a deployment burden on FC, so this is the ~40-line format decoder.
 */
import { DecodeError } from '../errors';

/** Decodes into `into` when it is large enough (reused between batches), else into a new buffer. */
export function decompressLz4Block(src: Buffer, rawSize: number, into?: Buffer): Buffer {
  const dst = into && into.length >= rawSize ? into.subarray(0, rawSize) : Buffer.allocUnsafe(rawSize);
  let s = 0;
  let d = 0;
  const end = src.length;
  while (s < end) {
    const token = src[s++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (s >= end) throw corrupt('literal length runs past the end');
        b = src[s++]!;
        literals += b;
      } while (b === 255);
    }
    if (s + literals > end || d + literals > rawSize) throw corrupt('literals run past the end');
    // Small copies are faster byte by byte than through a native call's overhead.
    if (literals < 32) {
      for (let i = 0; i < literals; i++) dst[d++] = src[s++]!;
    } else {
      src.copy(dst, d, s, s + literals);
      s += literals;
      d += literals;
    }
    if (s >= end) break; // the last sequence has literals only
    if (s + 2 > end) throw corrupt('match offset runs past the end');
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    if (offset === 0 || offset > d) throw corrupt(`match offset ${offset} points before the start`);
    let length = token & 15;
    if (length === 15) {
      let b: number;
      do {
        if (s >= end) throw corrupt('match length runs past the end');
        b = src[s++]!;
        length += b;
      } while (b === 255);
    }
    length += 4;
    if (d + length > rawSize) throw corrupt('match runs past the declared raw size');
    let from = d - offset;
    if (offset >= length && length >= 32) {
      dst.copyWithin(d, from, from + length);
      d += length;
    } else {
      // Short or overlapping match (an overlap repeats the last `offset` bytes): byte by byte.
      for (let i = 0; i < length; i++) dst[d++] = dst[from++]!;
    }
  }
  if (d !== rawSize) throw corrupt(`decoded ${d} bytes, x-log-bodyrawsize says ${rawSize}`);
  return dst;
}

function corrupt(why: string): DecodeError {
  return new DecodeError(`Corrupt LZ4 block from SLS: ${why}. Retry the invocation; if it persists, report the request id.`);
}
