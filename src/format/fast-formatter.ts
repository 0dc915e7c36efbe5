/**
 * The fast path for the common settings (kv or JSON body, no STRUCTURED-DATA): builds each
 * message straight from the bytes of the decoded PullLogs body into one reused buffer, without
 * turning values into JavaScript strings. Keys are decoded once and cached with their output
 * form; values are copied with UTF-8 validation and escaping in one pass. Its output is byte-for-
 * byte that of MessageFormatter (test/fast-formatter.test.ts checks it), which stays the
 * reference and the path for SD, CEF and LEEF.
 */
import type { ForwarderConfig } from '../config';
import type { GroupView, LogView } from '../decode/log-group';
import { kvNeedsQuotes } from './body';
import {
  CEF_RESERVED, CEF_VALUE_ESCAPES, cefHead, cefName, cefNames, LEEF_RESERVED, leefHead, leefName, leefNames, leefValueEscapes,
} from './event-formats';
import { paramNames, SD_VALUE_ESCAPES, sdParamName } from './structured-data';
import { ByteWriter, copyText, copyUnchecked, isValidUtf8, JSON_ESCAPES, KV_QUOTED_ESCAPES, type EscapeTable } from './bytes';
import { headerToken, priority, rfc3164Tag, rfc3164Timestamp } from './header';
import { levelFor } from './levels';
import { FieldLookup } from './lookup';
import { keepLength, truncationMark, type FormattedMessage, type SourceInfo } from './message';

interface KeyEntry {
  /** The SLS field name (invalid UTF-8 shown as U+FFFD). */
  name: string;
  /** The name in the message (after SYSLOG_FIELD_MAP). */
  out: string;
  excluded: boolean;
  /** The key as written in kv (quoted when the settings ask for it) and in JSON (`"key":`). */
  kv: Buffer;
  json: Buffer;
  /** The key's bytes in the PullLogs body (empty for names made here, like `__topic__`). */
  raw: Buffer;
  /** A small number per distinct `out` name (the kernel spots repeated JSON names by it), -1 past MAX_OUT_IDS. */
  outId: number;
}

/** What the WebAssembly kernel is told about a key. */
export interface KernelKey {
  /** The SLS field name (rules match on it). */
  name: string;
  /** The key as written in the message: `key` (kv, quoted if need be) or `"key":` (JSON). */
  bytes: Buffer;
  excluded: boolean;
  outId: number;
  /** Its STRUCTURED-DATA PARAM-NAME (before repeats are numbered) and an id of that name (-1 past MAX_OUT_IDS). */
  sdName: Buffer;
  sdId: number;
}

const MAX_OUT_IDS = 1024;

/** Names of a record's shipped keys in the message (they depend on the whole list), reused while the list repeats. */
class NamePlan {
  private entries: KeyEntry[] = [];
  private names: Buffer[] = [];

  of(order: KeyEntry[], n: number, build: (keys: string[]) => string[]): Buffer[] {
    let same = n === this.entries.length;
    for (let i = 0; same && i < n; i++) same = order[i] === this.entries[i];
    if (!same) {
      this.entries = order.slice(0, n);
      this.names = build(this.entries.map((e) => e.out)).map((name) => Buffer.from(name, 'utf8'));
    }
    return this.names;
  }
}

const EQUALS = 0x3d;
const QUOTE = 0x22;
const MAX_CACHED_KEYS = 50_000;

export class FastFormatter {
  private readonly w = new ByteWriter();
  private readonly keys = new Map<number, KeyEntry[]>();
  private keyCount = 0;
  private readonly named = new Map<string, KeyEntry>();
  private readonly outIds = new Map<string, number>();
  private readonly sdIds = new Map<string, number>();
  private readonly eventIds = new Map<string, number>();
  private readonly separator: Buffer;
  private readonly appName: string;
  private readonly hasRules: boolean;
  private readonly seen: string[] = [];
  private lastGroup: GroupView | undefined;
  /** Second pass over a record whose bytes were not valid UTF-8. */
  private checked = false;
  private meta: Array<[KeyEntry, number, number]> = [];
  private host = '-';
  private second = -1;
  private stamp = '';
  private day = -1;
  private dayPrefix = Buffer.alloc(0);
  private readonly pris: Buffer[] = [];
  /** The entries of the previous record's keys by position: records of a group usually share their key order. */
  private readonly previous: KeyEntry[] = [];
  /** CEF/LEEF: this record's shipped fields, and the previous record's with their names in the message. */
  private readonly eventEscapes: EscapeTable | undefined;
  private readonly order: KeyEntry[] = [];
  private readonly orderSrc: Buffer[] = [];
  private readonly orderSpan: number[] = [];
  private readonly eventNames = new NamePlan();
  private readonly sdNames = new NamePlan();
  private readonly sdOpen: Buffer;
  /** ` host app procid msgid ` (then `-` or the STRUCTURED-DATA). */
  private headBase = Buffer.alloc(0);
  /** Where the body starts, and the space before it (dropped with an empty body); set by rest(). */
  private bodyStart = 0;
  private spaceAt = -1;

  static supports(config: ForwarderConfig): boolean {
    const f = config.messageFormat;
    return f === 'kv' || f === 'json' || f === 'cef' || f === 'none' || (f === 'leef' && leefValueEscapes(config.event.leefDelimiter) !== undefined);
  }

  constructor(private readonly config: ForwarderConfig, private readonly source: SourceInfo) {
    this.separator = Buffer.from(config.messageFormat === 'leef' ? config.event.leefDelimiter : config.messageFormat === 'cef' ? ' ' : config.kvSeparator, 'utf8');
    this.eventEscapes = config.messageFormat === 'leef' ? leefValueEscapes(config.event.leefDelimiter) : CEF_VALUE_ESCAPES;
    this.sdOpen = Buffer.from(`[${config.structuredDataId ?? ''}`, 'latin1');
    const app = config.appName ?? source.logstore;
    this.appName = config.format === 'rfc5424' ? headerToken(app, 48) : rfc3164Tag(app);
    this.hasRules = config.severityRules.length > 0 || config.facilityRules.length > 0;
  }

  format(group: GroupView, log: LogView, recordId?: string): FormattedMessage {
    const c = this.config;
    const w = this.w;
    if (group !== this.lastGroup) this.prepareGroup(group);
    let severity = c.severity;
    let facility = c.facility;
    if (this.hasRules) {
      const lookup = new FieldLookup((key) => this.valueOf(group, log, recordId, key));
      severity = levelFor(lookup, c.severityRules, severity);
      facility = levelFor(lookup, c.facilityRules, facility);
    }
    w.pos = 0;
    if (c.format === 'rfc5424') {
      w.bytes(this.priPrefix(priority(facility, severity)));
      this.writeStamp5424(log.time, log.timeNs);
      w.bytes(this.headBase);
    } else {
      w.ascii(`<${priority(facility, severity)}>${this.stamp3164(log.time)} ${this.host} ${this.appName}: `);
    }
    const restStart = w.pos;
    // First copy the values unchecked and validate the rest once; only a record with invalid
    // UTF-8 is written again value by value, with U+FFFD replacements.
    this.checked = false;
    this.rest(group, log, recordId, severity);
    if (!isValidUtf8(w.buf, restStart, w.pos)) {
      w.pos = restStart;
      this.checked = true;
      this.rest(group, log, recordId, severity);
    }
    const bodyStart = this.bodyStart;
    if (this.spaceAt >= 0 && w.pos === bodyStart) w.pos = this.spaceAt; // empty body: no trailing space or BOM
    if (w.pos <= c.maxMessageBytes) return { bytes: w.buf.subarray(0, w.pos), truncated: false };
    const prefixEnd = Math.min(bodyStart, w.pos);
    const mark = truncationMark(w.pos);
    w.pos = prefixEnd + keepLength(w.buf.subarray(prefixEnd, w.pos), c.maxMessageBytes - prefixEnd - mark.length);
    w.bytes(mark);
    return { bytes: w.buf.subarray(0, w.pos), truncated: true };
  }

  /** The record's fields as one JSON object (jsonBody's bytes), whatever the body format: Splunk HEC's `event`. */
  jsonBody(group: GroupView, log: LogView, recordId?: string): Buffer {
    const w = this.w;
    if (group !== this.lastGroup) this.prepareGroup(group);
    w.pos = 0;
    this.checked = false;
    this.json(group, log, recordId);
    if (!isValidUtf8(w.buf, 0, w.pos)) {
      w.pos = 0;
      this.checked = true;
      this.json(group, log, recordId);
    }
    return w.buf.subarray(0, w.pos);
  }

  // What the WebAssembly kernel (src/format/kernel-formatter.ts) needs to write the same bytes.

  /** `<PRI>1 ` and what follows the header before a non-empty body (space, BOM). */
  kernelHeadAndLead(): { head: Buffer; lead: Buffer } {
    const pri = priority(this.config.facility, this.config.severity);
    if (this.config.format === 'rfc3164') return { head: Buffer.from(`<${pri}>`, 'latin1'), lead: EMPTY };
    return { head: this.priPrefix(pri), lead: this.config.bom ? Buffer.concat([SPACE, BOM]) : SPACE };
  }

  /** RFC 3164's `Mmm dd hh:mm:ss` in the configured time zone. */
  kernelStamp3164(seconds: number): string {
    return this.stamp3164(seconds);
  }

  /** A key of the PullLogs body, as the kernel needs it. */
  kernelKey(buf: Buffer, s: number, e: number): KernelKey {
    return this.kernelForm(this.key(buf, s, e));
  }

  /** `__record_id__`, as the kernel needs it. */
  kernelRecordIdKey(): KernelKey {
    return this.kernelForm(this.entry('__record_id__'));
  }

  /**
   * A group's header tail (` host app procid msgid -`, without the `-` when STRUCTURED-DATA
   * follows) and its fields rendered once each for the body (`key=value` or `"key":"value"`) and
   * for STRUCTURED-DATA (` name="value"`), with their name ids.
   */
  kernelGroupParts(g: GroupView): { tail: Buffer; extras: Buffer[]; extraIds: number[]; sdParams: Buffer[]; sdIds: number[] } {
    this.prepareGroup(g);
    const c = this.config;
    const tail =
      c.format === 'rfc3164' ? Buffer.from(` ${this.host} ${this.appName}: `, 'latin1')
      : c.structuredDataId !== undefined ? this.headBase // the kernel writes the SD after it
      : Buffer.concat([this.headBase, DASH]);
    const parts = { tail, extras: [] as Buffer[], extraIds: [] as number[], sdParams: [] as Buffer[], sdIds: [] as number[] };
    const w = this.w;
    this.checked = true; // group fields may hold invalid UTF-8: render them with U+FFFD, as the per-record path would
    for (const [entry, s, e] of this.meta) {
      if (entry.excluded) continue;
      if (c.messageFormat === 'cef' || c.messageFormat === 'leef') {
        const key = this.kernelForm(entry);
        w.pos = 0;
        w.bytes(key.bytes);
        w.byte(EQUALS);
        this.copy(g.buf, s, e, this.eventEscapes);
        parts.extras.push(Buffer.from(w.buf.subarray(0, w.pos)));
        parts.extraIds.push(key.outId);
      } else if (c.messageFormat !== 'none') {
        w.pos = 0;
        if (c.messageFormat === 'json') {
          this.seen.length = 0;
          this.jsonField(entry, g.buf, s, e);
        } else this.kvField(entry, g.buf, s, e, true);
        parts.extras.push(Buffer.from(w.buf.subarray(0, w.pos)));
        parts.extraIds.push(entry.outId);
      }
      if (c.structuredDataId !== undefined) {
        const key = this.kernelForm(entry);
        w.pos = 0;
        w.byte(0x20);
        w.bytes(key.sdName);
        w.byte(EQUALS);
        w.byte(QUOTE);
        this.copy(g.buf, s, e, SD_VALUE_ESCAPES);
        w.byte(QUOTE);
        parts.sdParams.push(Buffer.from(w.buf.subarray(0, w.pos)));
        parts.sdIds.push(key.sdId);
      }
    }
    return parts;
  }

  private kernelForm(entry: KeyEntry): KernelKey {
    const f = this.config.messageFormat;
    if (f === 'cef' || f === 'leef') {
      // The name in the message and an id of it; a name the header uses itself is numbered by JS.
      const name = f === 'cef' ? cefName(entry.out) : leefName(entry.out);
      let id = this.eventIds.get(name);
      if (id === undefined && this.eventIds.size < MAX_OUT_IDS) this.eventIds.set(name, (id = this.eventIds.size));
      const reserved = (f === 'cef' ? CEF_RESERVED : LEEF_RESERVED).includes(name);
      return { name: entry.name, bytes: Buffer.from(name, 'latin1'), excluded: entry.excluded, outId: reserved ? -1 : (id ?? -1), sdName: EMPTY, sdId: 0 };
    }
    const json = f === 'json';
    const sdName = sdParamName(entry.out);
    let sdId = this.sdIds.get(sdName);
    if (sdId === undefined && this.sdIds.size < MAX_OUT_IDS) this.sdIds.set(sdName, (sdId = this.sdIds.size));
    return {
      name: entry.name, bytes: json ? entry.json : entry.kv, excluded: entry.excluded, outId: entry.outId,
      sdName: Buffer.from(sdName, 'latin1'), sdId: sdId ?? -1,
    };
  }

  /**
   * After the header: RFC 5424's STRUCTURED-DATA (or `-`) and the space (and BOM) before the body,
   * then the body. STRUCTURED-DATA that leaves under 200 bytes of the size limit is replaced by `-`
   * (it cannot be cut); with no body format the fields then go in the body as JSON (message.ts).
   */
  private rest(g: GroupView, log: LogView, recordId: string | undefined, severity: number): void {
    const c = this.config;
    const w = this.w;
    let fieldsAsJson = false;
    this.spaceAt = -1;
    if (c.format === 'rfc5424') {
      const sdStart = w.pos;
      if (c.structuredDataId !== undefined) {
        this.structuredData(g, log, recordId);
        if (w.pos + 200 > c.maxMessageBytes) {
          w.pos = sdStart;
          w.byte(0x2d);
          fieldsAsJson = c.messageFormat === 'none';
        }
      } else w.byte(0x2d);
      this.spaceAt = w.pos;
      w.byte(0x20);
      if (c.bom) w.bytes(BOM);
    }
    this.bodyStart = w.pos;
    const f = c.messageFormat;
    if (f === 'json' || fieldsAsJson) this.json(g, log, recordId);
    else if (f === 'cef' || f === 'leef') this.event(g, log, recordId, severity);
    else if (f === 'kv') this.kv(g, log, recordId);
  }

  /** `[id name="value" ...]` with the shipped fields (structured-data.ts's rules). */
  private structuredData(g: GroupView, log: LogView, recordId: string | undefined): void {
    const n = this.collect(g, log, recordId);
    const names = this.sdNames.of(this.order, n, paramNames);
    const w = this.w;
    w.bytes(this.sdOpen);
    for (let i = 0; i < n; i++) {
      w.byte(0x20);
      w.bytes(names[i]!);
      w.byte(EQUALS);
      w.byte(QUOTE);
      this.copy(this.orderSrc[i]!, this.orderSpan[2 * i]!, this.orderSpan[2 * i + 1]!, SD_VALUE_ESCAPES);
      w.byte(QUOTE);
    }
    w.byte(0x5d);
  }

  /** CEF or LEEF: the header (event id/name looked up as event-formats.ts does), then `name=value` per shipped field. */
  private event(g: GroupView, log: LogView, recordId: string | undefined, severity: number): void {
    const c = this.config;
    const n = this.collect(g, log, recordId);
    const names = this.eventNames.of(this.order, n, c.messageFormat === 'cef' ? cefNames : leefNames);
    const lookup = c.event.idField || c.event.nameField ? new FieldLookup((key) => this.valueOf(g, log, recordId, key)) : undefined;
    const timeMs = log.time * 1000 + Math.floor(log.timeNs / 1e6);
    const head = c.messageFormat === 'cef' ? cefHead : leefHead;
    this.w.text(head(c.event, lookup, severity, timeMs, this.source.logstore));
    for (let i = 0; i < n; i++) {
      this.w.bytes(this.separator);
      this.w.bytes(names[i]!);
      this.w.byte(EQUALS);
      this.copy(this.orderSrc[i]!, this.orderSpan[2 * i]!, this.orderSpan[2 * i + 1]!, this.eventEscapes);
    }
  }

  /** The record's shipped fields in message order (contents, group fields, record id) into order/orderSrc/orderSpan; returns how many. */
  private collect(g: GroupView, log: LogView, recordId: string | undefined): number {
    const order = this.order;
    const src = this.orderSrc;
    const span = this.orderSpan;
    let n = 0;
    const f = log.fields;
    for (let i = 0; i < f.length; i += 4) {
      const entry = this.keyAt(i >> 2, g.buf, f[i]!, f[i + 1]!);
      if (entry.excluded) continue;
      order[n] = entry;
      src[n] = g.buf;
      span[2 * n] = f[i + 2]!;
      span[2 * n + 1] = f[i + 3]!;
      n++;
    }
    for (const [entry, s, e] of this.meta) {
      if (entry.excluded) continue;
      order[n] = entry;
      src[n] = g.buf;
      span[2 * n] = s;
      span[2 * n + 1] = e;
      n++;
    }
    const idEntry = recordId === undefined ? undefined : this.entry('__record_id__');
    if (idEntry && !idEntry.excluded) {
      const id = Buffer.from(recordId!, 'utf8');
      order[n] = idEntry;
      src[n] = id;
      span[2 * n] = 0;
      span[2 * n + 1] = id.length;
      n++;
    }
    return n;
  }

  private copy(src: Buffer, s: number, e: number, esc: EscapeTable | undefined): void {
    if (this.checked) copyText(this.w, src, s, e, esc);
    else copyUnchecked(this.w, src, s, e, esc);
  }

  private prepareGroup(g: GroupView): void {
    this.lastGroup = g;
    const meta: Array<[KeyEntry, number, number]> = [];
    if (g.topic && g.topic[1] > g.topic[0]) meta.push([this.entry('__topic__'), g.topic[0], g.topic[1]]);
    if (g.source && g.source[1] > g.source[0]) meta.push([this.entry('__source__'), g.source[0], g.source[1]]);
    for (let i = 0; i < g.tags.length; i += 4) {
      meta.push([this.entry(`__tag__:${g.buf.toString('utf8', g.tags[i], g.tags[i + 1])}`), g.tags[i + 2]!, g.tags[i + 3]!]);
    }
    this.meta = meta;
    const source = g.source ? g.buf.toString('utf8', g.source[0], g.source[1]) : '';
    this.host = headerToken(this.config.hostname ?? source, 255);
    this.headBase = Buffer.from(` ${this.host} ${this.appName} ${this.config.procId} ${this.config.msgId} `, 'latin1');
  }

  /** `<PRI>1 `, made once per PRI value. */
  private priPrefix(pri: number): Buffer {
    return (this.pris[pri] ??= Buffer.from(`<${pri}>1 `, 'latin1'));
  }

  /** RFC 3339 with microseconds, written as bytes: `YYYY-MM-DDT` cached per day, the rest by arithmetic. */
  private writeStamp5424(seconds: number, nanos: number): void {
    const w = this.w;
    const day = Math.floor(seconds / 86400);
    if (day !== this.day) {
      this.day = day;
      this.dayPrefix = Buffer.from(new Date(day * 86400_000).toISOString().slice(0, 11), 'latin1');
    }
    w.bytes(this.dayPrefix);
    w.ensure(16);
    const b = w.buf;
    let p = w.pos;
    let t = seconds - day * 86400;
    p = twoDigits(b, p, (t / 3600) | 0);
    b[p++] = 0x3a;
    t %= 3600;
    p = twoDigits(b, p, (t / 60) | 0);
    b[p++] = 0x3a;
    p = twoDigits(b, p, t % 60);
    b[p++] = 0x2e;
    let micros = Math.floor(Math.min(Math.max(nanos, 0), 999_999_999) / 1000);
    for (let i = 5; i >= 0; i--) {
      b[p + i] = 0x30 + (micros % 10);
      micros = (micros / 10) | 0;
    }
    p += 6;
    b[p++] = 0x5a; // Z
    w.pos = p;
  }

  private kv(g: GroupView, log: LogView, recordId: string | undefined): void {
    const buf = g.buf;
    const f = log.fields;
    let first = true;
    for (let i = 0; i < f.length; i += 4) first = this.kvField(this.keyAt(i >> 2, buf, f[i]!, f[i + 1]!), buf, f[i + 2]!, f[i + 3]!, first);
    const meta = this.meta;
    for (let m = 0; m < meta.length; m++) first = this.kvField(meta[m]![0], buf, meta[m]![1], meta[m]![2], first);
    if (recordId !== undefined) {
      const id = Buffer.from(recordId, 'utf8');
      this.kvField(this.entry('__record_id__'), id, 0, id.length, first);
    }
  }

  /** Writes `[sep]key=value`; returns whether the next field is still the first. */
  private kvField(entry: KeyEntry, src: Buffer, s: number, e: number, first: boolean): boolean {
    if (entry.excluded) return first;
    const w = this.w;
    if (!first) w.bytes(this.separator);
    w.bytes(entry.kv);
    w.byte(EQUALS);
    this.kvValue(src, s, e);
    return false;
  }

  private kvValue(src: Buffer, s: number, e: number): void {
    const w = this.w;
    const mode = this.config.kvQuote;
    if (mode === 'none') return this.copy(src, s, e, undefined);
    if (mode === 'always' || this.needsQuotes(src, s, e)) {
      w.byte(QUOTE);
      this.copy(src, s, e, KV_QUOTED_ESCAPES);
      w.byte(QUOTE);
    } else this.copy(src, s, e, undefined);
  }

  /** Same rule as kvBody's `auto`: empty, or holds the separator, `=`, `"`, `\` or whitespace. */
  private needsQuotes(src: Buffer, s: number, e: number): boolean {
    if (s === e) return true;
    for (let i = s; i < e; i++) {
      const b = src[i]!;
      if (b >= 0x80) return kvNeedsQuotes(src.toString('utf8', s, e), this.config.kvSeparator);
      if (b === 0x20 || (b >= 0x09 && b <= 0x0d) || b === EQUALS || b === QUOTE || b === 0x5c) return true;
    }
    const sep = this.separator;
    outer: for (let i = s; i + sep.length <= e; i++) {
      for (let k = 0; k < sep.length; k++) if (src[i + k] !== sep[k]) continue outer;
      return true;
    }
    return false;
  }

  private json(g: GroupView, log: LogView, recordId: string | undefined): void {
    const buf = g.buf;
    const f = log.fields;
    this.seen.length = 0;
    this.w.byte(0x7b);
    for (let i = 0; i < f.length; i += 4) this.jsonField(this.keyAt(i >> 2, buf, f[i]!, f[i + 1]!), buf, f[i + 2]!, f[i + 3]!);
    const meta = this.meta;
    for (let m = 0; m < meta.length; m++) this.jsonField(meta[m]![0], buf, meta[m]![1], meta[m]![2]);
    if (recordId !== undefined) {
      const id = Buffer.from(recordId, 'utf8');
      this.jsonField(this.entry('__record_id__'), id, 0, id.length);
    }
    this.w.byte(0x7d);
  }

  private jsonField(entry: KeyEntry, src: Buffer, s: number, e: number): void {
    if (entry.excluded) return;
    const w = this.w;
    const seen = this.seen;
    if (seen.length > 0) w.byte(0x2c);
    if (seen.includes(entry.out)) {
      // A repeated key keeps every value: key_2, key_3... (as jsonBody does).
      let name = entry.out;
      for (let n = 2; seen.includes(name); n++) name = `${entry.out}_${n}`;
      seen.push(name);
      w.text(`${JSON.stringify(name)}:`);
    } else {
      seen.push(entry.out);
      w.bytes(entry.json);
    }
    w.byte(QUOTE);
    this.copy(src, s, e, JSON_ESCAPES);
    w.byte(QUOTE);
  }

  /** The first field named `key` in this record (what a severity rule reads). */
  private valueOf(g: GroupView, log: LogView, recordId: string | undefined, key: string): string | undefined {
    const f = log.fields;
    for (let i = 0; i < f.length; i += 4) {
      if (this.keyAt(i >> 2, g.buf, f[i]!, f[i + 1]!).name === key) return g.buf.toString('utf8', f[i + 2], f[i + 3]);
    }
    for (const [entry, s, e] of this.meta) if (entry.name === key) return g.buf.toString('utf8', s, e);
    return key === '__record_id__' ? recordId : undefined;
  }

  /** The key at field position `slot`: first compared with the previous record's key there. */
  private keyAt(slot: number, buf: Buffer, s: number, e: number): KeyEntry {
    const hint = this.previous[slot];
    if (hint !== undefined) {
      const raw = hint.raw;
      if (raw.length === e - s) {
        let i = 0;
        while (i < raw.length && raw[i] === buf[s + i]) i++;
        if (i === raw.length) return hint;
      }
    }
    const entry = this.key(buf, s, e);
    this.previous[slot] = entry;
    return entry;
  }

  /** The cached entry for the key bytes buf[s, e): FNV-1a hash, then a byte compare. */
  private key(buf: Buffer, s: number, e: number): KeyEntry {
    let h = 0x811c9dc5;
    for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    const list = this.keys.get(h);
    if (list) {
      outer: for (const c of list) {
        const raw = c.raw;
        if (raw.length !== e - s) continue;
        for (let i = 0; i < raw.length; i++) if (raw[i] !== buf[s + i]) continue outer;
        return c;
      }
    }
    // Hostile data with endless distinct keys must not grow memory without bound.
    if (++this.keyCount > MAX_CACHED_KEYS) {
      this.keys.clear();
      this.named.clear();
      this.keyCount = 0;
    }
    const entry: KeyEntry = { ...this.entry(buf.toString('utf8', s, e)), raw: Buffer.from(buf.subarray(s, e)) };
    if (list) list.push(entry);
    else this.keys.set(h, [entry]);
    return entry;
  }

  private entry(name: string): KeyEntry {
    let entry = this.named.get(name);
    if (entry) return entry;
    const policy = this.config.fields;
    const excluded = (policy.include !== undefined && !policy.include.some((r) => r.test(name))) || policy.exclude.some((r) => r.test(name));
    const out = policy.rename.get(name) ?? name;
    const kvKey = this.config.kvQuote !== 'none' && kvNeedsQuotes(out, this.config.kvSeparator) ? `"${out.replace(/[\\"]/g, '\\$&')}"` : out;
    let outId = this.outIds.get(out);
    if (outId === undefined && this.outIds.size < MAX_OUT_IDS) this.outIds.set(out, (outId = this.outIds.size));
    entry = { name, out, excluded, kv: Buffer.from(kvKey, 'utf8'), json: Buffer.from(`${JSON.stringify(out)}:`, 'utf8'), raw: EMPTY, outId: outId ?? -1 };
    this.named.set(name, entry);
    return entry;
  }

  private stamp3164(seconds: number): string {
    if (seconds !== this.second) {
      this.second = seconds;
      this.stamp = rfc3164Timestamp(seconds, this.config.timeZone);
    }
    return this.stamp;
  }
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const DASH = Buffer.from('-');
const SPACE = Buffer.from(' ');

function twoDigits(b: Buffer, p: number, n: number): number {
  b[p] = 0x30 + ((n / 10) | 0);
  b[p + 1] = 0x30 + (n % 10);
  return p + 2;
}
const EMPTY = Buffer.alloc(0);
