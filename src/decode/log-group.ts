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

/** Decodes a `LogGroupList` body (already decompressed) into strings. */
export function decodeLogGroupList(buf: Buffer): LogGroup[] {
  return decodeGroupViews(buf).map(materializeGroup);
}

/**
 * The same, without decoding any string: every key and value stays a byte range of `buf`
 * (4 numbers per field: key start, key end, value start, value end). The reference engine turns
 * only the records it is given into strings (materializeLog).
 */
export interface GroupView {
  buf: Buffer;
  /** [start, end) of topic/source in `buf`, or -1 when absent. */
  topic: [number, number] | undefined;
  source: [number, number] | undefined;
  tags: number[];
  logs: LogView[];
}

export interface LogView {
  time: number;
  timeNs: number;
  fields: number[];
}

/**
 * Hot path: one Log's fields, read without helper objects (this runs once per record and per
 * field). Varints here are lengths and tags, far below 2^31.
 */
function readLogView(buf: Buffer, start: number, end: number): LogView {
  const log: LogView = { time: 0, timeNs: 0, fields: [] };
  const fields = log.fields;
  let p = start;
  while (p < end) {
    let tag = buf[p++]!;
    if (tag > 0x7f) [tag, p] = varintAt(buf, p - 1, end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 2 && wire === WireType.Bytes) {
      if (p >= end) throw truncated('Log.Contents');
      let len = buf[p++]!;
      if (len > 0x7f) [len, p] = varintAt(buf, p - 1, end);
      const pairEnd = p + len;
      if (pairEnd > end) throw truncated('Log.Contents');
      let ks = p;
      let ke = p;
      let vs = p;
      let ve = p;
      while (p < pairEnd) {
        let t = buf[p++]!;
        if (t > 0x7f) [t, p] = varintAt(buf, p - 1, pairEnd);
        if ((t & 7) !== WireType.Bytes) {
          const r = new Reader(buf, p, pairEnd);
          r.skip(t & 7);
          p = r.pos;
          continue;
        }
        if (p >= pairEnd) throw truncated('Log.Content');
        let l = buf[p++]!;
        if (l > 0x7f) [l, p] = varintAt(buf, p - 1, pairEnd);
        if (p + l > pairEnd) throw truncated('Log.Content');
        if (t >>> 3 === 1) {
          ks = p;
          ke = p + l;
        } else if (t >>> 3 === 2) {
          vs = p;
          ve = p + l;
        }
        p += l;
      }
      fields.push(ks, ke, vs, ve);
      p = pairEnd;
    } else if (field === 1 && wire === WireType.Varint) {
      [log.time, p] = varintAt(buf, p, end);
    } else if (field === 4 && wire === WireType.Fixed32) {
      if (p + 4 > end) throw truncated('Log.TimeNs');
      log.timeNs = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | ((buf[p + 3]! << 24) >>> 0);
      log.timeNs >>>= 0;
      p += 4;
    } else {
      const r = new Reader(buf, p, end);
      r.skip(wire);
      p = r.pos;
    }
  }
  return log;
}

/** A varint starting at p: [value, next offset]. Values above 2^32 are truncated like Reader.varint. */
function varintAt(buf: Buffer, p: number, end: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (p >= end) throw truncated('varint');
    const b = buf[p++]!;
    if (shift < 32) result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [result, p];
    shift += 7;
    if (shift > 63) throw new DecodeError('Corrupt protobuf from SLS: varint longer than 10 bytes.');
  }
}

function readPairSpan(buf: Buffer, start: number, end: number, out: number[]): void {
  const r = new Reader(buf, start, end);
  let ks = start;
  let ke = start;
  let vs = start;
  let ve = start;
  while (r.pos < end) {
    const tag = r.varint();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === WireType.Bytes) [ks, ke] = r.span();
    else if (field === 2 && (tag & 7) === WireType.Bytes) [vs, ve] = r.span();
    else r.skip(tag & 7);
  }
  out.push(ks, ke, vs, ve);
}

function readGroupView(buf: Buffer, start: number, end: number, withLogs = true): GroupView {
  const r = new Reader(buf, start, end);
  const group: GroupView = { buf, topic: undefined, source: undefined, tags: [], logs: [] };
  while (r.pos < end) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire !== WireType.Bytes) {
      r.skip(wire);
      continue;
    }
    const span = r.span();
    if (field === 1) {
      if (withLogs) group.logs.push(readLogView(buf, span[0], span[1]));
    }
    else if (field === 3) group.topic = span;
    else if (field === 4) group.source = span;
    else if (field === 6) readPairSpan(buf, span[0], span[1], group.tags);
    // field 2 (Reserved/Category) and 5 (MachineUUID) are not shipped
  }
  return group;
}

/**
 * The [start, end) of each LogGroup in a `LogGroupList` body, without decoding them: the shipper
 * decodes one group at a time, so only one group's records are ever held as objects.
 */
export function groupSpans(buf: Buffer): number[] {
  const r = new Reader(buf, 0, buf.length);
  const spans: number[] = [];
  while (r.pos < buf.length) {
    const tag = r.varint();
    if (tag >>> 3 === 1 && (tag & 7) === WireType.Bytes) spans.push(...r.span());
    else r.skip(tag & 7);
  }
  return spans;
}

export function decodeGroupView(buf: Buffer, start: number, end: number): GroupView {
  return readGroupView(buf, start, end);
}

/**
 * Topic, source and tags of a group, without its logs (the kernel reads those). `from`: where the
 * fields after the leading logs start, if the caller knows (the kernel finds it faster).
 */
export function decodeGroupMeta(buf: Buffer, start: number, end: number, from = start): GroupView {
  return readGroupView(buf, from, end, false);
}

export function decodeGroupViews(buf: Buffer): GroupView[] {
  const spans = groupSpans(buf);
  const groups: GroupView[] = [];
  for (let i = 0; i < spans.length; i += 2) groups.push(readGroupView(buf, spans[i]!, spans[i + 1]!));
  return groups;
}

function pairs(buf: Buffer, spans: number[]): Field[] {
  const out: Field[] = [];
  for (let i = 0; i < spans.length; i += 4) out.push([buf.toString('utf8', spans[i], spans[i + 1]), buf.toString('utf8', spans[i + 2], spans[i + 3])]);
  return out;
}

export function materializeLog(group: GroupView, log: LogView): LogRecord {
  return { time: log.time, timeNs: log.timeNs, contents: pairs(group.buf, log.fields) };
}

/** Group-level strings only (topic, source, tags); logs are materialized one at a time when needed. */
export function materializeGroupMeta(g: GroupView): LogGroup {
  const text = (span: [number, number] | undefined) => (span ? g.buf.toString('utf8', span[0], span[1]) : '');
  return { topic: text(g.topic), source: text(g.source), tags: pairs(g.buf, g.tags), logs: [] };
}

export function materializeGroup(g: GroupView): LogGroup {
  return { ...materializeGroupMeta(g), logs: g.logs.map((l) => materializeLog(g, l)) };
}
