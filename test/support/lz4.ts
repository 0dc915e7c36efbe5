/**
 * LZ4 raw-block compression for the emulator and tests, through lz4js (an independent pure-JS
 * implementation). lz4js gives up on incompressible input; then the block is written as one
 * literal-only sequence, which is what the reference C library produces too.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lz4js = require('lz4js') as {
  compressBound(n: number): number;
  compressBlock(src: Uint8Array, dst: Uint8Array, s: number, len: number, ht: Uint32Array): number;
};

function literalOnlyBlock(src: Buffer): Buffer {
  const header: number[] = [];
  if (src.length < 15) header.push(src.length << 4);
  else {
    header.push(0xf0);
    let rest = src.length - 15;
    while (rest >= 255) {
      header.push(255);
      rest -= 255;
    }
    header.push(rest);
  }
  return Buffer.concat([Buffer.from(header), src]);
}

export function lz4CompressBlock(src: Buffer): Buffer {
  if (src.length === 0) return Buffer.alloc(0);
  const dst = Buffer.alloc(lz4js.compressBound(src.length));
  const n = lz4js.compressBlock(src, dst, 0, src.length, new Uint32Array(1 << 16));
  return n > 0 ? dst.subarray(0, n) : literalOnlyBlock(src);
}
