/**
 * Turns one SLS log into one syslog message (bytes, unframed): header (RFC 5424 or 3164),
 * optional STRUCTURED-DATA, and the body (kv, JSON, CEF, LEEF). Enforces the size limit: a message
 * over `maxMessageBytes` is cut at a UTF-8 character boundary and marked, never dropped.
 */
import type { EncoderSettings } from './encoding';
import type { Field, LogGroup, LogRecord } from '../decode/log-group';
import { jsonBody, kvBody } from './body';
import { cefBody, cefKeyNames, leefBody, leefKeyNames } from './event-formats';
import { afterTimestamp, appNameToken, hostToken, priority, priPrefix, rfc3164Timestamp, rfc5424Timestamp } from './header';
import { levelFor } from './levels';
import type { FieldLookup } from './lookup';
import { sdKeyNames, structuredData } from './structured-data';
import { ecsBody } from './ecs';
import { presetPlan, type PresetPlan } from './presets/plan';
import { messageFields } from './presets/found';

export interface FormattedMessage {
  bytes: Buffer;
  truncated: boolean;
}

export interface SourceInfo {
  project: string;
  logstore: string;
}

export const TRUNCATION_MARK = ' [TRUNCATED by sls-syslog-forwarder: original message ';

/** Between the RFC 5424 header and a non-empty body: a space, and the BOM when asked for. */
export function bodyLead(bom: boolean): string {
  return bom ? ' \ufeff' : ' ';
}

/** STRUCTURED-DATA (which cannot be cut) must leave this much of the size limit, or the fields go to the body. */
export const SD_MIN_ROOM = 200;

/** Largest index <= `limit` that starts a UTF-8 character (never splits a multi-byte sequence). */
export function utf8Boundary(buf: Buffer, limit: number): number {
  let i = Math.min(limit, buf.length);
  while (i > 0 && i < buf.length && (buf[i]! & 0xc0) === 0x80) i--;
  return i;
}

export function truncationMark(originalBytes: number): Buffer {
  return Buffer.from(`${TRUNCATION_MARK}${originalBytes} bytes]`, 'utf8');
}

/** How many bytes of `body` to keep within `room`: at a UTF-8 boundary, never half of a backslash escape. */
export function keepLength(body: Buffer, room: number): number {
  let keep = utf8Boundary(body, Math.max(0, room));
  // Do not end on half of a backslash escape (CEF `\=`, JSON `\"`, SD `\]`).
  let slashes = 0;
  while (slashes < keep && body[keep - 1 - slashes] === 0x5c) slashes++;
  if (slashes % 2 === 1) keep--;
  return keep;
}

/** Keeps `prefix` whole and cuts `body` so that prefix + body + mark fits in `maxBytes`. */
export function truncateMessage(prefix: Buffer, body: Buffer, maxBytes: number): Buffer {
  const mark = truncationMark(prefix.length + body.length);
  return Buffer.concat([prefix, body.subarray(0, keepLength(body, maxBytes - prefix.length - mark.length)), mark]);
}

export class MessageFormatter {
  private readonly appName: string;
  private readonly needsLookup: boolean;
  /** Message names of the last record's keys, per place they appear (reused while the keys repeat). */
  private readonly names = { cef: cefKeyNames(), leef: leefKeyNames(), sd: sdKeyNames() };
  private readonly preset: PresetPlan;

  constructor(private readonly config: EncoderSettings, private readonly source: SourceInfo) {
    this.appName = appNameToken(config.format, config.appName ?? source.logstore);
    this.preset = presetPlan(config);
    this.needsLookup =
      config.severityRules.length > 0 || config.facilityRules.length > 0 || config.messageFormat === 'cef' || config.messageFormat === 'leef';
  }

  format(group: LogGroup, log: LogRecord, recordId?: string): FormattedMessage {
    const c = this.config;
    const { fields, lookup } = messageFields(this.preset, group, log, recordId, this.needsLookup);
    const severity = lookup ? levelFor(lookup, c.severityRules, c.severity) : c.severity;
    const facility = lookup ? levelFor(lookup, c.facilityRules, c.facility) : c.facility;
    const pri = priPrefix(c.format, priority(facility, severity));
    const rest = afterTimestamp(c.format, hostToken(c.hostname, group.source), this.appName, c.procId, c.msgId);
    let body = this.body(fields, lookup, severity, log);

    let prefix: string;
    if (c.format === 'rfc3164') {
      prefix = `${pri}${rfc3164Timestamp(log.time, c.timeZone)}${rest}`;
    } else {
      const head = `${pri}${rfc5424Timestamp(log.time, log.timeNs)}${rest}`;
      let sd = c.structuredDataId ? structuredData(c.structuredDataId, fields, this.names.sd) : '-';
      if (Buffer.byteLength(head) + Buffer.byteLength(sd) + SD_MIN_ROOM > c.encoding.maxMessageBytes) {
        // The fields do not fit as STRUCTURED-DATA (which cannot be cut): carry them in the body instead.
        sd = '-';
        if (c.messageFormat === 'none') body = jsonBody(fields);
      }
      prefix = body === '' ? `${head}${sd}` : `${head}${sd}${bodyLead(c.bom)}`;
    }
    const head = Buffer.from(prefix, 'utf8');
    const tail = Buffer.from(body, 'utf8');
    if (head.length + tail.length <= c.encoding.maxMessageBytes) return { bytes: Buffer.concat([head, tail], head.length + tail.length), truncated: false };
    return { bytes: truncateMessage(head, tail, c.encoding.maxMessageBytes), truncated: true };
  }

  private body(fields: Field[], lookup: FieldLookup | undefined, severity: number, log: LogRecord): string {
    const c = this.config;
    const timeMs = log.time * 1000 + Math.floor(log.timeNs / 1e6);
    switch (c.messageFormat) {
      case 'json':
        return this.preset.ecs ? ecsBody(fields, timeMs, this.preset.ecs) : jsonBody(fields);
      case 'cef':
        return cefBody(fields, lookup!, c.event, severity, timeMs, this.source.logstore, this.names.cef);
      case 'leef':
        return leefBody(fields, lookup!, c.event, severity, timeMs, this.source.logstore, this.names.leef);
      case 'none':
        return '';
      default:
        return kvBody(fields, c.kvSeparator, c.kvQuote);
    }
  }
}

