/**
 * SIEM event formats: ArcSight CEF (rev. 25 escaping rules) and IBM QRadar LEEF 2.0.
 * The header's event id and name come from record fields named in the settings.
 */
import type { Field } from '../decode/log-group';
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

// Most values need no escaping: one test, and the replace chain only when it matches.
function cefHeader(text: string): string {
  return /[\\|\r\n]/.test(text) ? text.replace(/[\\|]/g, '\\$&').replace(/\r?\n|\r/g, ' ') : text;
}

function cefValue(text: string): string {
  return /[\\=\r\n]/.test(text) ? text.replace(/[\\=]/g, '\\$&').replace(/\r/g, '\\r').replace(/\n/g, '\\n') : text;
}

/**
 * The names a record's keys get in the message (sanitized, repeats numbered), remembered for the
 * next record: the records of a logstore mostly share their keys, in the same order.
 */
export class KeyNames {
  private keys: string[] = [];
  private names: string[] = [];

  constructor(private readonly build: (fields: Field[]) => string[]) {}

  of(fields: Field[]): string[] {
    let same = fields.length === this.keys.length;
    for (let i = 0; same && i < fields.length; i++) same = fields[i]![0] === this.keys[i];
    if (!same) {
      this.keys = fields.map(([k]) => k);
      this.names = this.build(fields);
    }
    return this.names;
  }
}

export const cefKeyNames = () => new KeyNames((fields) => uniqueKeys(fields, (k) => CEF_KEYS[k] ?? (k.replace(/[^A-Za-z0-9]/g, '_') || '_'), ['rt']).map(([k]) => k));
export const leefKeyNames = () =>
  new KeyNames((fields) => uniqueKeys(fields, (k) => k.replace(/[^A-Za-z0-9_]/g, '_') || '_', ['devTime', 'devTimeFormat', 'sev']).map(([k]) => k));

/** CEF extension keys are alphanumeric; other characters become `_`, and duplicates get a suffix. */
function uniqueKeys(fields: Field[], sanitize: (k: string) => string, reserved: string[]): Field[] {
  const used = new Set(reserved);
  return fields.map(([k, v]) => {
    let key = sanitize(k);
    for (let n = 2; used.has(key); n++) key = `${sanitize(k)}${n}`;
    used.add(key);
    return [key, v];
  });
}

function eventId(h: EventHeaderSettings, lookup: FieldLookup, fallback: string): [string, string] {
  const id = (h.idField && lookup.get(h.idField)) || fallback;
  const name = (h.nameField && lookup.get(h.nameField)) || id;
  return [id, name];
}

export function cefBody(
  fields: Field[], lookup: FieldLookup, h: EventHeaderSettings, severity: number, timeMs: number, fallbackId: string, names = cefKeyNames(),
): string {
  const [id, name] = eventId(h, lookup, fallbackId);
  const keys = names.of(fields);
  let out =
    `CEF:0|${cefHeader(h.vendor)}|${cefHeader(h.product)}|${cefHeader(h.version)}|${cefHeader(id)}|${cefHeader(name)}|${CEF_SEVERITY[severity]}|` +
    `rt=${timeMs}`;
  for (let i = 0; i < fields.length; i++) out += ` ${keys[i]}=${cefValue(fields[i]![1])}`;
  return out;
}

function leefValue(text: string, delimiter: string): string {
  if (!/[\\\r\n]/.test(text) && !text.includes(delimiter)) return text;
  let out = text.replace(/\\/g, '\\\\').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  if (delimiter === '\t') out = out.replace(/\t/g, '\\t');
  else out = out.split(delimiter).join(`\\${delimiter}`);
  return out;
}

export function leefBody(
  fields: Field[], lookup: FieldLookup, h: EventHeaderSettings, severity: number, timeMs: number, fallbackId: string, names = leefKeyNames(),
): string {
  const [id] = eventId(h, lookup, fallbackId);
  const d = h.leefDelimiter;
  const delimiterField = d === '\t' ? 'x09' : d;
  const keys = names.of(fields);
  let out = `LEEF:2.0|${cefHeader(h.vendor)}|${cefHeader(h.product)}|${cefHeader(h.version)}|${cefHeader(id)}|${delimiterField}|`;
  out += `devTime=${timeMs}${d}devTimeFormat=epoch_ms${d}sev=${LEEF_SEVERITY[severity]}`;
  for (let i = 0; i < fields.length; i++) out += `${d}${keys[i]}=${leefValue(fields[i]![1], d)}`;
  return out;
}
