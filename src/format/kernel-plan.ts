/**
 * What the kernel is told, decided here with the reference's own rules (fields.ts, body.ts,
 * event-formats.ts, structured-data.ts, header.ts, hec-event.ts): each key's form in the message,
 * a group's own fields rendered once, the header's constant parts. The kernel applies these
 * decisions; it names nothing itself, so a naming rule changes in one place.
 */
import type { EncoderSettings } from './encoding';
import { recordFields, messageName } from './fields';
import type { LogGroup } from '../decode/log-group';
import { jsonMember, kvKey, kvPair, KV_QUOTE_TRIGGER } from './body';
import { CEF_HEADER_ESCAPES, CEF_VALUE_ESCAPES, JSON_ESCAPES, jsonString, kernelEscapeTable, kvEscapesFor, KV_QUOTED_ESCAPES, SD_VALUE_ESCAPES } from './escapes';
import { cefName, cefValue, CEF_RESERVED, leefEscapesFor, leefName, leefValue, LEEF_RESERVED } from './event-formats';
import { afterTimestamp, appNameToken, hostToken, priority, priPrefix, rfc3164Timestamp } from './header';
import { HEC_OPEN, hecEnvelope } from './hec-event';
import { hecEnvelopeOf } from './encoding';
import { bodyLead, type SourceInfo } from './syslog-message';
import { sdParamName, sdParamValue } from './structured-data';
import { presetPlan, type PresetPlan } from './presets/plan';
import type { FieldPolicy } from './fields';

let quoteTriggers: { ascii: Buffer; wide: Buffer[] } | undefined;

/** KV_QUOTE_TRIGGER as the kernel reads it: a map of the ASCII characters, and the UTF-8 bytes of every other one. */
export function kvQuoteTriggers(): { ascii: Buffer; wide: Buffer[] } {
  if (quoteTriggers) return quoteTriggers;
  const ascii = Buffer.alloc(128);
  const wide: Buffer[] = [];
  for (let code = 0; code <= 0xffff; code++) {
    if (code >= 0xd800 && code <= 0xdfff) continue; // surrogates: no UTF-8 of their own
    const c = String.fromCharCode(code);
    if (!KV_QUOTE_TRIGGER.test(c)) continue;
    if (code < 0x80) ascii[code] = 1;
    else wide.push(Buffer.from(c, 'utf8'));
  }
  return (quoteTriggers = { ascii, wide });
}

/** What the kernel is told about one key of the PullLogs body. */
export interface KernelKey {
  /** The SLS field name (rules match on it). */
  name: string;
  /** The key as the body writes it: `key` (kv, quoted if need be), `"key":` (JSON), the CEF/LEEF name. */
  bytes: Buffer;
  excluded: boolean;
  /** An id of the name in the body (repeats of JSON, CEF and LEEF names are numbered by the reference), -1 past MAX_NAME_IDS or reserved. */
  outId: number;
  /** Its STRUCTURED-DATA PARAM-NAME (before repeats are numbered) and an id of that name. */
  sdName: Buffer;
  sdId: number;
  /** Renamed to a standard key for an address: a value that is none keeps the SLS name (format/fields.ts), in the reference. */
  mustBeIp: boolean;
}

/** A group's header tail and its own fields (topic, source, tags) rendered for the body and for STRUCTURED-DATA. */
export interface GroupParts {
  tail: Buffer;
  extras: Buffer[];
  extraIds: number[];
  sdParams: Buffer[];
  sdIds: number[];
}

const MAX_NAME_IDS = 1024;
const MAX_CACHED_KEYS = 50_000;
const utf8 = (text: string) => Buffer.from(text, 'utf8');

/** Small numbers for distinct names: the kernel spots a repeated name in a record by them. */
class NameIds {
  private readonly ids = new Map<string, number>();
  of(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined && this.ids.size < MAX_NAME_IDS) this.ids.set(name, (id = this.ids.size));
    return id ?? -1;
  }
}

export class KernelPlan {
  private readonly keys = new Map<string, KernelKey>();
  private readonly outIds = new NameIds();
  private readonly sdIds = new NameIds();
  private readonly appName: string;
  /** The body the kernel writes: HEC's event is a JSON body. */
  readonly body: 'kv' | 'json' | 'none' | 'cef' | 'leef';
  private second = -1;
  private stamp = '';
  /** The field policy with a preset's renames, and the preset's constant fields. */
  private readonly fields: FieldPolicy;
  private readonly preset: PresetPlan;

  constructor(private readonly config: EncoderSettings, private readonly source: SourceInfo) {
    this.appName = appNameToken(config.format, config.appName ?? source.logstore);
    this.body = config.encoding.kind === 'hec-event' ? 'json' : config.messageFormat;
    this.preset = presetPlan(config);
    this.fields = this.preset.fields;
  }

  private get hec(): boolean {
    return this.config.encoding.kind === 'hec-event';
  }

  /** A key, as the body and STRUCTURED-DATA write it. */
  key(name: string): KernelKey {
    let key = this.keys.get(name);
    if (key) return key;
    // Hostile data with endless distinct keys must not grow memory without bound.
    if (this.keys.size >= MAX_CACHED_KEYS) this.keys.clear();
    const c = this.config;
    const out = messageName(this.fields, name);
    const shown = out ?? name;
    let bytes: string;
    let outId: number;
    if (this.body === 'cef' || this.body === 'leef') {
      const event = this.body === 'cef' ? cefName(shown) : leefName(shown);
      // A name the event header uses itself is numbered by the reference.
      outId = (this.body === 'cef' ? CEF_RESERVED : LEEF_RESERVED).includes(event) ? -1 : this.outIds.of(event);
      bytes = event;
    } else {
      bytes = this.body === 'json' ? `${jsonString(shown)}:` : kvKey(shown, c.kvSeparator, c.kvQuote);
      outId = this.outIds.of(shown);
    }
    const sdName = sdParamName(shown);
    const mustBeIp = out !== undefined && out !== name && this.fields.fits?.get(out) === 'ip';
    key = { name, bytes: utf8(bytes), excluded: out === undefined, outId, sdName: utf8(sdName), sdId: this.sdIds.of(sdName), mustBeIp };
    this.keys.set(name, key);
    return key;
  }

  /** `<PRI>1 ` (or `<PRI>`) with the default levels, or HEC's `{"time":`. */
  head(): Buffer {
    return utf8(this.hec ? HEC_OPEN : priPrefix(this.config.format, priority(this.config.facility, this.config.severity)));
  }

  /** Between the header and a non-empty body. */
  lead(): Buffer {
    return utf8(!this.hec && this.config.format === 'rfc5424' ? bodyLead(this.config.bom) : '');
  }

  /** Between two fields of the body. */
  separator(): Buffer {
    const c = this.config;
    return utf8(this.body === 'json' ? ',' : this.body === 'cef' ? ' ' : this.body === 'leef' ? c.event.leefDelimiter : c.kvSeparator);
  }

  /** The escape tables of values in the body, in STRUCTURED-DATA and in the event header (a line break there becomes one space: the reference's case). */
  escapeTables(): { body: Buffer; sd: Buffer; header: Buffer } {
    const b = this.body;
    const body = b === 'json' ? JSON_ESCAPES : b === 'cef' ? CEF_VALUE_ESCAPES : b === 'leef' ? leefEscapesFor(this.config.event.leefDelimiter)
      : this.config.kvQuote === 'escape' ? kvEscapesFor(this.config.kvSeparator) : KV_QUOTED_ESCAPES;
    return { body: kernelEscapeTable(body), sd: kernelEscapeTable(SD_VALUE_ESCAPES), header: kernelEscapeTable(CEF_HEADER_ESCAPES, '\r\n') };
  }

  /** RFC 3164's `Mmm dd hh:mm:ss` in the configured time zone. */
  stamp3164(seconds: number): string {
    if (seconds !== this.second) {
      this.second = seconds;
      this.stamp = rfc3164Timestamp(seconds, this.config.timeZone);
    }
    return this.stamp;
  }

  groupParts(group: LogGroup): GroupParts {
    const c = this.config;
    const sd = !this.hec && c.structuredDataId !== undefined;
    const rest = afterTimestamp(c.format, hostToken(c.hostname, group.source), this.appName, c.procId, c.msgId);
    const tail = this.hec ? hecEnvelope(c, hecEnvelopeOf(c.encoding), this.source, group.source) : c.format === 'rfc3164' || sd ? rest : `${rest}-`;
    const parts: GroupParts = { tail: utf8(tail), extras: [], extraIds: [], sdParams: [], sdIds: [] };
    // The preset's constants follow the group's own fields, as in the reference.
    for (const [name, value] of [...recordFields(group, { time: 0, timeNs: 0, contents: [] }), ...this.preset.constants]) {
      const key = this.key(name);
      if (key.excluded) continue;
      const out = messageName(this.fields, name)!;
      const extra =
        this.body === 'json' ? jsonMember(out, value)
        : this.body === 'cef' ? `${key.bytes.toString('utf8')}=${cefValue(value)}`
        : this.body === 'leef' ? `${key.bytes.toString('utf8')}=${leefValue(value, c.event.leefDelimiter)}`
        : this.body === 'kv' ? kvPair(out, value, c.kvSeparator, c.kvQuote)
        : undefined;
      if (extra !== undefined) {
        parts.extras.push(utf8(extra));
        parts.extraIds.push(key.outId);
      }
      if (sd) {
        parts.sdParams.push(utf8(` ${key.sdName.toString('utf8')}="${sdParamValue(value)}"`));
        parts.sdIds.push(key.sdId);
      }
    }
    return parts;
  }
}
