/**
 * SIEM event formats: ArcSight CEF (rev. 25 escaping rules) and IBM QRadar LEEF 2.0.
 * The header's event id and name come from record fields named in the settings. The string
 * functions here are the reference; the kernel is told the names and header parts they give.
 */
import type { Field } from '../decode/log-group';
import { CEF_HEADER_ESCAPES, CEF_VALUE_ESCAPES, escapeText, leefValueEscapes, type Escapes } from './escapes';
import type { FieldLookup } from './lookup';

export interface EventHeaderSettings {
  vendor: string;
  product: string;
  version: string;
  /** Record field for CEF Signature ID / LEEF EventID (fallback: the logstore name). */
  idField: string | undefined;
  /** Record field for the CEF Name (fallback: the id). */
  nameField: string | undefined;
  /** LEEF attribute delimiter (one character). */
  leefDelimiter: string;
}

/** syslog severity 0 (emerg) .. 7 (debug) -> CEF 0..10 / LEEF sev 1..10. */
const CEF_SEVERITY = [10, 9, 8, 7, 5, 3, 1, 0];
const LEEF_SEVERITY = [10, 9, 8, 7, 5, 3, 2, 1];

/** Well-known SLS fields with a standard CEF/LEEF key. */
const CEF_KEYS: Record<string, string> = { __record_id__: 'externalId', __source__: 'dvc' };

/** A header field: escaped, and a line break (CR LF, CR or LF) as one space. */
export function cefHeader(text: string): string {
  const escaped = escapeText(text, CEF_HEADER_ESCAPES);
  return /[\r\n]/.test(escaped) ? escaped.replace(/\r?\n|\r/g, ' ') : escaped;
}

export function cefValue(text: string): string {
  return escapeText(text, CEF_VALUE_ESCAPES);
}

const leefTables = new Map<string, Escapes>();

/** The table of a delimiter, made once. */
export function leefEscapesFor(delimiter: string): Escapes {
  let table = leefTables.get(delimiter);
  if (!table) leefTables.set(delimiter, (table = leefValueEscapes(delimiter)));
  return table;
}

export function leefValue(text: string, delimiter: string): string {
  return escapeText(text, leefEscapesFor(delimiter));
}

/** Sanitized names, a numeric suffix on repeats (and on the header's own names). */
function uniqueNames(keys: string[], sanitize: (k: string) => string, reserved: string[]): string[] {
  const used = new Set(reserved);
  return keys.map((k) => {
    let key = sanitize(k);
    for (let n = 2; used.has(key); n++) key = `${sanitize(k)}${n}`;
    used.add(key);
    return key;
  });
}

/** One CEF extension key: alphanumeric (others become `_`), well-known SLS names mapped. */
export const cefName = (k: string): string => CEF_KEYS[k] ?? (k.replace(/[^A-Za-z0-9]/g, '_') || '_');
/** One LEEF attribute name: alphanumeric and `_` (others become `_`). */
export const leefName = (k: string): string => k.replace(/[^A-Za-z0-9_]/g, '_') || '_';
/** Names the headers use themselves: a key named so gets a number, as a repeat does. */
export const CEF_RESERVED = ['rt'];
export const LEEF_RESERVED = ['devTime', 'devTimeFormat', 'sev'];

/** CEF extension keys for a record's keys, repeats numbered. */
export function cefNames(keys: string[]): string[] {
  return uniqueNames(keys, cefName, CEF_RESERVED);
}

/** LEEF attribute names for a record's keys, repeats numbered. */
export function leefNames(keys: string[]): string[] {
  return uniqueNames(keys, leefName, LEEF_RESERVED);
}

/**
 * The names a record's keys get in the message, remembered for the next record: the records of
 * a logstore mostly share their keys, in the same order.
 */
export class KeyNames {
  private keys: string[] = [];
  private names: string[] = [];

  constructor(private readonly build: (keys: string[]) => string[]) {}

  of(fields: Field[]): string[] {
    let same = fields.length === this.keys.length;
    for (let i = 0; same && i < fields.length; i++) same = fields[i]![0] === this.keys[i];
    if (!same) {
      this.keys = fields.map(([k]) => k);
      this.names = this.build(this.keys);
    }
    return this.names;
  }
}

export const cefKeyNames = () => new KeyNames(cefNames);
export const leefKeyNames = () => new KeyNames(leefNames);

function eventId(h: EventHeaderSettings, lookup: FieldLookup | undefined, fallback: string): [string, string] {
  const id = (h.idField && lookup?.get(h.idField)) || fallback;
  const name = (h.nameField && lookup?.get(h.nameField)) || id;
  return [id, name];
}

/**
 * The constant parts of the CEF/LEEF header around the record's own values: `pre` (up to the event
 * id), the escaped fallback id, and for LEEF `mid` (after the id, up to the time) and `post` (after
 * the time, up to the severity), and the header's severity for each syslog severity. The kernel
 * writes the header from these too.
 */
export function eventHeadParts(
  h: EventHeaderSettings, kind: 'cef' | 'leef', fallbackId: string,
): { pre: string; fallbackId: string; mid: string; post: string; severities: readonly number[] } {
  const product = `${cefHeader(h.vendor)}|${cefHeader(h.product)}|${cefHeader(h.version)}|`;
  if (kind === 'cef') return { pre: `CEF:0|${product}`, fallbackId: cefHeader(fallbackId), mid: '', post: '', severities: CEF_SEVERITY };
  const d = h.leefDelimiter;
  return { pre: `LEEF:2.0|${product}`, fallbackId: cefHeader(fallbackId), mid: `|${d === '\t' ? 'x09' : d}|devTime=`, post: `${d}devTimeFormat=epoch_ms${d}sev=`, severities: LEEF_SEVERITY };
}

/** `CEF:0|vendor|product|version|id|name|severity|rt=<ms>`: everything before the extensions. */
export function cefHead(h: EventHeaderSettings, lookup: FieldLookup | undefined, severity: number, timeMs: number, fallbackId: string): string {
  const [id, name] = eventId(h, lookup, fallbackId);
  return `${eventHeadParts(h, 'cef', fallbackId).pre}${cefHeader(id)}|${cefHeader(name)}|${CEF_SEVERITY[severity]}|rt=${timeMs}`;
}

/** `LEEF:2.0|vendor|product|version|id|delimiter|devTime=..<d>devTimeFormat=epoch_ms<d>sev=N`. */
export function leefHead(h: EventHeaderSettings, lookup: FieldLookup | undefined, severity: number, timeMs: number, fallbackId: string): string {
  const [id] = eventId(h, lookup, fallbackId);
  const { pre, mid, post } = eventHeadParts(h, 'leef', fallbackId);
  return `${pre}${cefHeader(id)}${mid}${timeMs}${post}${LEEF_SEVERITY[severity]}`;
}

export function cefBody(
  fields: Field[], lookup: FieldLookup, h: EventHeaderSettings, severity: number, timeMs: number, fallbackId: string, names = cefKeyNames(),
): string {
  const keys = names.of(fields);
  let out = cefHead(h, lookup, severity, timeMs, fallbackId);
  for (let i = 0; i < fields.length; i++) out += ` ${keys[i]}=${cefValue(fields[i]![1])}`;
  return out;
}

export function leefBody(
  fields: Field[], lookup: FieldLookup, h: EventHeaderSettings, severity: number, timeMs: number, fallbackId: string, names = leefKeyNames(),
): string {
  const d = h.leefDelimiter;
  const keys = names.of(fields);
  let out = leefHead(h, lookup, severity, timeMs, fallbackId);
  for (let i = 0; i < fields.length; i++) out += `${d}${keys[i]}=${leefValue(fields[i]![1], d)}`;
  return out;
}
