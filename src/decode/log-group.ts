/**
 * Decoder for the SLS protobuf `LogGroupList` (proto2; field numbers in docs/design.md).
 * Hand-written instead of protobufjs: it reads only what the forwarder ships, skips unknown
 * fields, and decodes strings leniently (invalid UTF-8 becomes U+FFFD instead of throwing,
 * because SLS stores whatever bytes the producer sent).
 */
import { DecodeError } from '../errors';

export type Field = [key: string, value: string];

export interface LogRecord {
  /** Unix seconds. */
  time: number;
  /** Nanosecond part of the time, 0-999,999,999 (0 when the producer sent none). */
  timeNs: number;
  contents: Field[];
}

export interface LogGroup {
  topic: string;
  source: string;
  tags: Field[];
  logs: LogRecord[];
}

const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  Bytes = 2,
  Fixed32 = 5,
}

class Reader {
  pos: number;
  constructor(readonly buf: Buffer, start: number, readonly end: number) {
    this.pos = start;
  }

  varint(): number {
    // Values we keep are uint32; longer varints (e.g. unknown int64 fields) are consumed and truncated.
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw truncated('varint');
      const b = this.buf[this.pos++]!;
      if (shift < 32) result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new DecodeError('Corrupt protobuf from SLS: varint longer than 10 bytes.');
    }
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) throw truncated('fixed32');
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Returns [start, end) of a length-delimited field. */
  span(): [number, number] {
    const length = this.varint();
    const start = this.pos;
    const end = start + length;
    if (end > this.end) throw truncated('length-delimited field');
    this.pos = end;
    return [start, end];
  }

  string(): string {
    const [s, e] = this.span();
    return this.buf.toString('utf8', s, e);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.pos += 8;
        break;
      case WireType.Bytes:
        this.span();
        return;
      case WireType.Fixed32:
        this.pos += 4;
        break;
      default:
        throw new DecodeError(`Corrupt protobuf from SLS: unsupported wire type ${wireType}.`);
    }
    if (this.pos > this.end) throw truncated('skipped field');
  }
}

function truncated(what: string): DecodeError {
  return new DecodeError(`Truncated protobuf from SLS (${what} runs past the end). Retry the invocation.`);
}

function readPair(buf: Buffer, start: number, end: number): Field {
  const r = new Reader(buf, start, end);
  let key = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.varint();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === WireType.Bytes) key = r.string();
    else if (field === 2 && (tag & 7) === WireType.Bytes) value = r.string();
    else r.skip(tag & 7);
  }
  return [key, value];
}

function readLog(buf: Buffer, start: number, end: number): LogRecord {
  const r = new Reader(buf, start, end);
  const log: LogRecord = { time: 0, timeNs: 0, contents: [] };
  while (r.pos < end) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === WireType.Varint) log.time = r.varint();
    else if (field === 2 && wire === WireType.Bytes) {
      const [s, e] = r.span();
      log.contents.push(readPair(buf, s, e));
    } else if (field === 4 && wire === WireType.Fixed32) log.timeNs = r.fixed32();
    else r.skip(wire);
  }
  return log;
}

function readGroup(buf: Buffer, start: number, end: number): LogGroup {
  const r = new Reader(buf, start, end);
  const group: LogGroup = { topic: '', source: '', tags: [], logs: [] };
  while (r.pos < end) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire !== WireType.Bytes) {
      r.skip(wire);
      continue;
    }
    const [s, e] = r.span();
    if (field === 1) group.logs.push(readLog(buf, s, e));
    else if (field === 3) group.topic = buf.toString('utf8', s, e);
    else if (field === 4) group.source = buf.toString('utf8', s, e);
    else if (field === 6) group.tags.push(readPair(buf, s, e));
    // field 2 (Reserved/Category) and 5 (MachineUUID) are not shipped
  }
  return group;
}

/** Decodes a `LogGroupList` body (already decompressed). */
export function decodeLogGroupList(buf: Buffer): LogGroup[] {
  const r = new Reader(buf, 0, buf.length);
  const groups: LogGroup[] = [];
  while (r.pos < buf.length) {
    const tag = r.varint();
    if (tag >>> 3 === 1 && (tag & 7) === WireType.Bytes) {
      const [s, e] = r.span();
      groups.push(readGroup(buf, s, e));
    } else r.skip(tag & 7);
  }
  return groups;
}
