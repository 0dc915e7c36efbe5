/**
 * The kernel's LZ4 decoder (16-byte wild copies) against lz4js, an independent encoder, and
 * against the JavaScript decoder on every match offset and literal length where copy strategies
 * change; corrupt blocks are refused.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { decompressLz4Block } from '../src/decode/lz4';
import { Kernel } from '../src/native/kernel';
import { lz4CompressBlock } from './support/lz4';

/** A raw LZ4 block by hand: literals then a match (offset, length) per sequence, literals to end. */
function block(seqs: Array<{ literals: Buffer; offset: number; match: number }>, tail: Buffer): Buffer {
  const out: number[] = [];
  const lenBytes = (n: number) => {
    for (n -= 15; n >= 255; n -= 255) out.push(255);
    out.push(n);
  };
  for (const { literals, offset, match } of seqs) {
    const l = literals.length;
    const m = match - 4;
    out.push((Math.min(l, 15) << 4) | Math.min(m, 15));
    if (l >= 15) lenBytes(l);
    out.push(...literals);
    out.push(offset & 0xff, offset >> 8);
    if (m >= 15) lenBytes(m);
  }
  out.push(Math.min(tail.length, 15) << 4);
  if (tail.length >= 15) lenBytes(tail.length);
  out.push(...tail);
  return Buffer.from(out);
}

const kernel = new Kernel();
const decode = (src: Buffer, rawSize: number): Buffer | undefined => {
  const at = kernel.lz4(src, rawSize);
  return at === undefined ? undefined : Buffer.from(kernel.memory().subarray(at, at + rawSize));
};

test('kernel lz4: round-trips what lz4js encodes', () => {
  const samples = [
    Buffer.from('a'.repeat(10_000)),
    randomBytes(5000),
    Buffer.from(Array.from({ length: 4000 }, (_, i) => `field${i % 37}=value-${i % 11}||`).join('')),
    Buffer.concat([randomBytes(300), Buffer.alloc(70_000, 7), randomBytes(300), Buffer.from('abcabcabcabc'.repeat(500))]),
    Buffer.alloc(1),
  ];
  for (const raw of samples) {
    const out = decode(lz4CompressBlock(raw), raw.length);
    assert.ok(out?.equals(raw), `round trip of ${raw.length} bytes`);
  }
});

test('kernel lz4: every offset 1-40 and length 4-80 decodes as the JavaScript decoder does', () => {
  let checked = 0;
  for (let offset = 1; offset <= 40; offset++) {
    for (let match = 4; match <= 80; match += 3) {
      for (const litLen of [0, 1, 15, 16, 17, 33, 64, 65, 300]) {
        const first = randomBytes(Math.max(offset, 1) + litLen);
        const src = block([{ literals: first, offset, match }, { literals: randomBytes(litLen % 7), offset: 1, match: 5 }], randomBytes(5));
        const rawSize = first.length + match + (litLen % 7) + 5 + 5;
        const want = decompressLz4Block(src, rawSize);
        const got = decode(src, rawSize);
        assert.ok(got?.equals(want), `offset ${offset} match ${match} literals ${litLen}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 9000);
});

test('kernel lz4: corrupt or mis-sized blocks are refused', () => {
  const raw = Buffer.from('hello hello hello hello hello hello'.repeat(100));
  const compressed = lz4CompressBlock(raw);
  assert.equal(decode(compressed, raw.length + 1), undefined);
  assert.equal(decode(compressed, raw.length - 1), undefined);
  assert.equal(decode(compressed.subarray(0, compressed.length - 5), raw.length), undefined);
  assert.equal(decode(Buffer.from([0x10, 0x41, 0xff, 0x00]), 100), undefined); // a match 255 bytes back, after 1 byte
  assert.equal(decode(Buffer.from([0x10, 0x41, 0x00, 0x00]), 100), undefined); // offset 0
  assert.equal(decode(Buffer.from([0xf0, 0xff, 0xff]), 1000), undefined); // literal length runs off the end
  assert.ok(decode(compressed, raw.length)?.equals(raw)); // and the kernel still works afterwards
});
