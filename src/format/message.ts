/**
 * Turns one SLS log into one syslog message (bytes, unframed), and enforces the size limit:
 * a message over `maxMessageBytes` is cut at a UTF-8 character boundary and marked, never dropped.
 */
import type { ForwarderConfig } from '../config';
import type { LogGroup, LogRecord } from '../decode/log-group';
import { jsonBody, kvBody } from './body';
import { recordFields } from './fields';
import { headerToken, priority, rfc3164Tag, rfc3164Timestamp, rfc5424Timestamp } from './header';

export interface FormattedMessage {
  bytes: Buffer;
  truncated: boolean;
}

export interface SourceInfo {
  project: string;
  logstore: string;
}

export const TRUNCATION_MARK = ' [TRUNCATED by sls-syslog-forwarder: original message ';

/** Largest index <= `limit` that starts a UTF-8 character (never splits a multi-byte sequence). */
export function utf8Boundary(buf: Buffer, limit: number): number {
  let i = Math.min(limit, buf.length);
  while (i > 0 && i < buf.length && (buf[i]! & 0xc0) === 0x80) i--;
  return i;
}

export function truncateMessage(full: Buffer, maxBytes: number): Buffer {
  const mark = Buffer.from(`${TRUNCATION_MARK}${full.length} bytes]`, 'utf8');
  const keep = utf8Boundary(full, Math.max(0, maxBytes - mark.length));
  return Buffer.concat([full.subarray(0, keep), mark]);
}

export class MessageFormatter {
  private readonly pri: string;
  private readonly appName: string;
  private readonly fixedHost: string | undefined;

  constructor(private readonly config: ForwarderConfig, source: SourceInfo) {
    this.pri = `<${priority(config.facility, config.severity)}>`;
    const app = config.appName ?? source.logstore;
    this.appName = config.format === 'rfc5424' ? headerToken(app, 48) : rfc3164Tag(app);
    this.fixedHost = config.hostname;
  }

  format(group: LogGroup, log: LogRecord): FormattedMessage {
    const fields = recordFields(group, log);
    const body = this.config.messageFormat === 'json' ? jsonBody(fields) : kvBody(fields, this.config.kvSeparator);
    const host = headerToken(this.fixedHost ?? group.source, 255);
    const head =
      this.config.format === 'rfc5424'
        ? `${this.pri}1 ${rfc5424Timestamp(log.time, log.timeNs)} ${host} ${this.appName} - - - `
        : `${this.pri}${rfc3164Timestamp(log.time)} ${host} ${this.appName}: `;
    const bytes = Buffer.from(head + body, 'utf8');
    if (bytes.length <= this.config.maxMessageBytes) return { bytes, truncated: false };
    return { bytes: truncateMessage(bytes, this.config.maxMessageBytes), truncated: true };
  }
}
