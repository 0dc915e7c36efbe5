/**
 * A small protobuf writer for SLS LogGroups, for tests that need bytes the official SDK cannot
 * produce (invalid UTF-8, unknown fields). Independent of src/decode on purpose.
 */
export type Bytes = string | Buffer;

export interface TestLog {
  time: number;
  timeNs?: number;
  contents: Array<[Bytes, Bytes]>;
}

export interface TestGroup {
  logs: TestLog[];
  topic?: Bytes;
  source?: Bytes;
  machineUuid?: Bytes;
  tags?: Array<[Bytes, Bytes]>;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A length-delimited protobuf field. */
export function bytes(field: number, value: Bytes): Buffer {
  const b = Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
  return Buffer.concat([varint((field << 3) | 2), varint(b.length), b]);
}

/** A Key/Value message (Log.Content, LogTag) as field `field`. */
export function pair(field: number, [k, v]: [Bytes, Bytes]): Buffer {
  return bytes(field, Buffer.concat([bytes(1, k), bytes(2, v)]));
}

export function encodeLog(log: TestLog): Buffer {
  const parts = [varint(1 << 3), varint(log.time), ...log.contents.map((c) => pair(2, c))];
  if (log.timeNs !== undefined) {
    const ns = Buffer.alloc(4);
    ns.writeUInt32LE(log.timeNs);
    parts.push(varint((4 << 3) | 5), ns);
  }
  return Buffer.concat(parts);
}

export function encodeLogGroup(group: TestGroup): Buffer {
  const parts = group.logs.map((l) => bytes(1, encodeLog(l)));
  if (group.topic !== undefined) parts.push(bytes(3, group.topic));
  if (group.source !== undefined) parts.push(bytes(4, group.source));
  if (group.machineUuid !== undefined) parts.push(bytes(5, group.machineUuid));
  for (const t of group.tags ?? []) parts.push(pair(6, t));
  return Buffer.concat(parts);
}

export function encodeLogGroupList(groups: Buffer[]): Buffer {
  return Buffer.concat(groups.map((g) => bytes(1, g)));
}
