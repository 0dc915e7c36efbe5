/**
 * Counting a soak on the receiver: every id's copies in rsyslog's file (streamed: a long soak's
 * file is large), and for each run of lost records whether the receiver's own SIGKILL explains it.
 *
 * Why a receiver can lose what the function rightly counted as delivered: the function's proof
 * for plain TCP is the receiver's answer to its close (a FIN after everything was read). rsyslog
 * reads a chunk, then writes its messages; killed in between, with nothing left unread, the
 * kernel closes its socket with a FIN, so the close is answered as if it had everything, and the
 * chunk was never written. No sender can tell this from a real close (RELP or HEC acks can).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Rsyslog } from './rsyslog';
import type { StreamRun } from './soak-writer';

/**
 * What a receiver may hold between reading and writing: rsyslog's imtcp reads up to 128 KiB at a
 * time; twice that leaves room for the message sizes being estimated.
 */
export const RECEIVER_READ_BYTES = 256 * 1024;

export interface Delivered {
  /** Copies of each id found. */
  copies: Uint32Array;
  /** Lines with an id nobody wrote, or none. */
  unknown: number;
  /** Lines holding more than one record: torn by a SIGKILL mid-write, the next line glued on. */
  torn: number;
  /** The ids on the last line written before each receiver SIGKILL. */
  lastBeforeKill: Set<number>;
  /** Average syslog message size (bytes of `msg` plus a header), to size a lost run. */
  messageBytes: number;
}

export async function countDelivered(rsyslog: Rsyslog, written: number, killOffsets: number[]): Promise<Delivered> {
  const copies = new Uint32Array(written);
  const out: Delivered = { copies, unknown: 0, torn: 0, lastBeforeKill: new Set(), messageBytes: 0 };
  const file = join(rsyslog.dir, 'tcp.jsonl');
  if (!existsSync(file)) return out;
  const kills = [...killOffsets].sort((a, b) => a - b);
  let nextKill = 0;
  let offset = 0;
  let lastWhole: number | undefined;
  let msgBytes = 0;
  let records = 0;
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    const start = offset;
    offset += line.length + 1; // ASCII only: characters are bytes
    const ids = [...line.matchAll(/"msg":"id=(\d+)\|/g)].map((m) => Number(m[1]));
    // A line torn by a SIGKILL mid-write has the next line glued on: its first record is cut
    // short (not delivered), the glued one is whole.
    while (nextKill < kills.length && kills[nextKill]! <= start) nextKill++;
    const killedHere = nextKill < kills.length && kills[nextKill]! <= offset;
    const torn = ids.length > 1 || (killedHere && kills[nextKill]! < offset);
    if (killedHere) {
      // The file stood here at a kill: the last whole record before it is this line's, or (torn) the one before.
      const last = torn ? lastWhole : ids[0];
      if (last !== undefined) out.lastBeforeKill.add(last);
    }
    if (line === '' || line.includes('"rsyslog-probe"')) continue;
    const whole = torn ? ids.slice(1) : ids;
    for (const id of whole) {
      if (id < written) copies[id]!++;
      else out.unknown++;
    }
    if (ids.length === 0) out.unknown++;
    if (torn) out.torn++;
    if (whole.length > 0) lastWhole = whole[whole.length - 1];
    const msg = /"msg":"([^"]*)"/.exec(line);
    if (msg && ids.length === 1) {
      msgBytes += msg[1]!.length;
      records++;
    }
  }
  // The header (PRI, version, time, host, app and the dashes) adds about 60 bytes.
  out.messageBytes = records === 0 ? 0 : msgBytes / records + 60;
  return out;
}

export type LossCause = 'receiver-killed-after-reading' | 'unexplained';

/**
 * A run of lost records is the receiver's loss when it starts right after the last record the
 * receiver wrote before one of its SIGKILLs, and is no bigger than what it reads at once.
 * Anything else is unexplained: a loss in the function (or the harness) to look into.
 */
export function lossCause(run: StreamRun, delivered: Delivered): LossCause {
  const afterKill = run.previous >= 0 && delivered.lastBeforeKill.has(run.previous);
  return afterKill && run.records * delivered.messageBytes <= RECEIVER_READ_BYTES ? 'receiver-killed-after-reading' : 'unexplained';
}

/** Waits until the receiver's file stops growing. */
export async function settle(rsyslog: Rsyslog, quietMs = 1000): Promise<void> {
  const file = join(rsyslog.dir, 'tcp.jsonl');
  let last = -1;
  for (;;) {
    const size = existsSync(file) ? statSync(file).size : 0;
    if (size === last) return;
    last = size;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}
