import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import path from 'node:path';
import protobuf from 'protobufjs';
import { decompressLz4Block } from '../src/decode/lz4';
import { decodeLogGroupList } from '../src/decode/log-group';
import { DecodeError } from '../src/errors';
import { lz4CompressBlock } from './support/lz4';
import { encodeLogGroup, encodeLogGroupList } from './support/log-group-writer';

// lz4js (behind lz4CompressBlock) is an independent LZ4 implementation: the reference encoder.
const lz4Compress = lz4CompressBlock;

test('lz4: round-trips repetitive, random and mixed data through an independent encoder', () => {
  const samples = [
    Buffer.from('a'.repeat(10_000)),
    randomBytes(5000),
    Buffer.from(Array.from({ length: 2000 }, (_, i) => `field${i % 37}=value-${i % 11}||`).join('')),
    Buffer.concat([randomBytes(300), Buffer.alloc(70_000, 7), randomBytes(300), Buffer.from('abcabcabcabc'.repeat(500))]),
  ];
  for (const raw of samples) {
    const compressed = lz4Compress(raw);
    const out = decompressLz4Block(compressed, raw.length);
    assert.ok(out.equals(raw), `round trip of ${raw.length} bytes`);
  }
});

test('lz4: a corrupt or mis-sized block is a DecodeError, not garbage', () => {
  const raw = Buffer.from('hello hello hello hello hello hello'.repeat(100));
  const compressed = lz4Compress(raw);
  assert.throws(() => decompressLz4Block(compressed, raw.length + 1), DecodeError);
  assert.throws(() => decompressLz4Block(compressed.subarray(0, compressed.length - 5), raw.length), DecodeError);
  const badOffset = Buffer.from([0x10, 0x41, 0xff, 0x00]); // 1 literal, then a match 255 bytes back
  assert.throws(() => decompressLz4Block(badOffset, 100), /offset/);
});

test('protobuf: decodes what protobufjs encodes from the SDK\'s own sls.proto', () => {
  const root = protobuf.loadSync(path.join(__dirname, '../node_modules/@alicloud/log/lib/sls.proto'));
  const LogGroup = root.lookupType('sls.LogGroup');
  const group = {
    Logs: [
      { Time: 1737669036, Contents: [{ Key: 'msg', Value: 'line1\nline2' }, { Key: 'k', Value: '中文 😀' }], TimeNs: 123456789 },
      { Time: 4000000000, Contents: [{ Key: 'empty', Value: '' }] },
    ],
    Topic: 'waf', Source: '10.0.0.1',
    LogTags: [{ Key: '__receive_time__', Value: '1737669037' }],
  };
  const bytes = Buffer.from(LogGroup.encode(LogGroup.create(group)).finish());
  const [decoded] = decodeLogGroupList(encodeLogGroupList([bytes, bytes]));
  assert.equal(decodeLogGroupList(encodeLogGroupList([bytes, bytes])).length, 2);
  assert.deepEqual(decoded, {
    topic: 'waf', source: '10.0.0.1', tags: [['__receive_time__', '1737669037']],
    logs: [
      { time: 1737669036, timeNs: 123456789, contents: [['msg', 'line1\nline2'], ['k', '中文 😀']] },
      { time: 4000000000, timeNs: 0, contents: [['empty', '']] },
    ],
  });
});

test('protobuf: invalid UTF-8 becomes U+FFFD and unknown fields are skipped', () => {
  const bytes = encodeLogGroup({
    logs: [{ time: 1, contents: [[Buffer.from([0x6b, 0xff]), Buffer.from([0x61, 0xc3, 0x28, 0x62])]] }],
    machineUuid: 'uuid-1', source: Buffer.from([0xe2, 0x82]),
  });
  const [group] = decodeLogGroupList(encodeLogGroupList([bytes]));
  assert.deepEqual(group!.logs[0]!.contents, [['k\ufffd', 'a\ufffd(b']]);
  assert.equal(group!.source, '\ufffd');
});

test('protobuf: a truncated body is a DecodeError', () => {
  const list = encodeLogGroupList([encodeLogGroup({ logs: [{ time: 5, contents: [['a', 'b'.repeat(300)]] }] })]);
  assert.throws(() => decodeLogGroupList(list.subarray(0, list.length - 10)), DecodeError);
  assert.deepEqual(decodeLogGroupList(Buffer.alloc(0)), []);
});
