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

function cefHeader(text: string): string {
  return text.replace(/[\\|]/g, '\\$&').replace(/\r?\n|\r/g, ' ');
}

function cefValue(text: string): string {
  return text.replace(/[\\=]/g, '\\$&').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

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

export function cefBody(fields: Field[], lookup: FieldLookup, h: EventHeaderSettings, severity: number, timeMs: number, fallbackId: string): string {
  const [id, name] = eventId(h, lookup, fallbackId);
  const ext = uniqueKeys(fields, (k) => CEF_KEYS[k] ?? (k.replace(/[^A-Za-z0-9]/g, '_') || '_'), ['rt']);
  let out =
    `CEF:0|${cefHeader(h.vendor)}|${cefHeader(h.product)}|${cefHeader(h.version)}|${cefHeader(id)}|${cefHeader(name)}|${CEF_SEVERITY[severity]}|` +
    `rt=${timeMs}`;
  for (const [k, v] of ext) out += ` ${k}=${cefValue(v)}`;
  return out;
}

function leefValue(text: string, delimiter: string): string {
  let out = text.replace(/\\/g, '\\\\').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  if (delimiter === '\t') out = out.replace(/\t/g, '\\t');
  else out = out.split(delimiter).join(`\\${delimiter}`);
  return out;
}

export function leefBody(fields: Field[], lookup: FieldLookup, h: EventHeaderSettings, severity: number, timeMs: number, fallbackId: string): string {
  const [id] = eventId(h, lookup, fallbackId);
  const d = h.leefDelimiter;
  const delimiterField = d === '\t' ? 'x09' : d;
  const attrs = uniqueKeys(fields, (k) => k.replace(/[^A-Za-z0-9_]/g, '_') || '_', ['devTime', 'devTimeFormat', 'sev']);
  let out = `LEEF:2.0|${cefHeader(h.vendor)}|${cefHeader(h.product)}|${cefHeader(h.version)}|${cefHeader(id)}|${delimiterField}|`;
  out += `devTime=${timeMs}${d}devTimeFormat=epoch_ms${d}sev=${LEEF_SEVERITY[severity]}`;
  for (const [k, v] of attrs) out += `${d}${k}=${leefValue(v, d)}`;
  return out;
}
