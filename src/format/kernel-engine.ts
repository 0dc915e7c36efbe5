/**
 * The kernel engine: a whole decompressed PullLogs body through the WebAssembly kernel, which writes
 * framed syslog messages (or HEC events) for many records per call. Each record the kernel does not
 * take itself (unusual protobuf, over its size limit, a name the reference must number, a
 * record-level decode error) goes to the reference engine: the same bytes, by construction and by test.
 */
import { presetPlan } from './presets/plan';
import type { EncoderSettings } from './encoding';
import { decodeGroupMeta, decodeGroupView, groupSpans, materializeGroupMeta, type GroupView, type LogGroup } from '../decode/log-group';
import { Kernel, MAX_RULE_SLOTS, MAX_RULES, StepStatus } from '../native/kernel';
import { isAsciiTable, kvEscapesFor } from './escapes';
import { eventHeadParts, leefEscapesFor } from './event-formats';
import { KernelPlan, kvQuoteTriggers, type GroupParts } from './kernel-plan';
import type { LevelRule } from './levels';
import type { RecordFilter } from './filter';
import { SD_MIN_ROOM, type SourceInfo } from './syslog-message';
import { referenceFormatter, type RecordFormatter } from './reference-engine';

/**
 * What encoding a body yields, in order: framed messages of many records (the kernel's), one
 * unframed message (a record the reference wrote), a record the output's filter left out, and the
 * end of a log group. The bytes are valid until the next chunk is asked for: send (copy) them first.
 */
export type Chunk =
  | { kind: 'frames'; bytes: Uint8Array; records: number; messageBytes: number }
  | { kind: 'message'; bytes: Buffer; truncated: boolean }
  | { kind: 'filtered' }
  | { kind: 'group' };

type KernelRuleOf = LevelRule & { kind: 0 | 1 };

const EMPTY = Buffer.alloc(0);
const GROUP_DONE: Chunk = { kind: 'group' };


/**
 * Why the kernel does not take these settings at all (the reference then runs the whole range,
 * and the summary says so), or undefined when it does.
 */
export function kernelDeclines(config: EncoderSettings, filter?: RecordFilter): string | undefined {
  // The filter reads whole records: the reference decodes them anyway.
  if (filter) return 'OUTPUT_FILTER';
  const preset = presetPlan(config);
  if (preset.ecs) return 'JSON_SCHEMA=ecs (nested objects)';
  if (preset.found.length > 0) return `FIELD_PRESET=${config.preset!.name} (fields found inside JSON)`;
  if (config.encoding.kind === 'hec-event') return undefined;
  const body = config.messageFormat;
  const event = body === 'cef' || body === 'leef';
  const sd = config.structuredDataId !== undefined;
  const rules = [...config.severityRules, ...config.facilityRules];
  // The event id/name fields are read like rule fields (record fields only, not `__topic__`...).
  const eventFields = event ? [config.event.idField, config.event.nameField].filter((f): f is string => f !== undefined) : [];
  const fields = new Set([...rules.map((r) => r.field), ...eventFields]);
  if (event && sd) return 'STRUCTURED-DATA with a CEF or LEEF body';
  if (body === 'none' && !sd) return 'an empty message body';
  if (body === 'kv' && config.kvQuote === 'escape' && !isAsciiTable(kvEscapesFor(config.kvSeparator))) return `SYSLOG_KV_SEPARATOR ${JSON.stringify(config.kvSeparator)} (not ASCII)`;
  if (body === 'leef' && !isAsciiTable(leefEscapesFor(config.event.leefDelimiter))) return `SYSLOG_LEEF_DELIMITER ${JSON.stringify(config.event.leefDelimiter)} (not ASCII)`;
  if (rules.length > MAX_RULES || fields.size > MAX_RULE_SLOTS) return `more than ${MAX_RULES} level rules or ${MAX_RULE_SLOTS} fields they read`;
  if (rules.some((r) => Buffer.byteLength(r.value) >= 64)) return 'a level rule value of 64 bytes or more';
  if ([...fields].some((f) => f.startsWith('__'))) return 'a level rule or event field on a group field (__topic__, __source__, __tag__:...)';
  return undefined;
}

export class KernelEngine {
  private readonly kernel: Kernel;
  private readonly plan: KernelPlan;
  private readonly reference: RecordFormatter;
  private readonly idKey: { bytes: Buffer; nameId: number; sdName: Buffer; sdId: number } | undefined;
  /** With record ids on but `__record_id__` excluded (or untrackable), the kernel writes none. */
  private readonly recordIdExcluded: boolean;
  /** JSON, CEF, LEEF: names repeated in a record go to the reference, so their ids matter. */
  private readonly namesTracked: boolean;
  private readonly stepBytes: number;
  /** Records written by the kernel and by the reference (tests and tuning read these). */
  readonly stats = { kernel: 0, fallback: 0 };

  constructor(config: EncoderSettings, source: SourceInfo) {
    this.plan = new KernelPlan(config, source);
    this.reference = referenceFormatter(config, source);
    const hec = config.encoding.kind === 'hec-event';
    const body = this.plan.body;
    const event = body === 'cef' || body === 'leef';
    const sd = !hec && config.structuredDataId !== undefined;
    this.namesTracked = body === 'json' || event;
    this.stepBytes = config.encoding.stepBytes;
    const rules: KernelRuleOf[] = hec ? [] : [
      ...config.severityRules.map((r) => ({ ...r, kind: 0 as const })),
      ...config.facilityRules.map((r) => ({ ...r, kind: 1 as const })),
    ];
    const { idField, nameField } = config.event;
    const slots = new Map<string, number>(); // each distinct field a rule (or the event header) reads
    for (const f of [...rules.map((r) => r.field), ...(event ? [idField, nameField] : [])]) if (f !== undefined && !slots.has(f)) slots.set(f, slots.size);
    this.kernel = new Kernel(
      (memory, at, length) => {
        const key = this.plan.key(memory.toString('utf8', at, at + length));
        // Names whose repeats go to the reference need ids; past the id tables, such keys take the reference path.
        const nameId = this.namesTracked ? key.outId : 0;
        if (nameId < 0 || (sd && key.sdId < 0)) return undefined;
        return {
          bytes: body === 'none' ? EMPTY : key.bytes, excluded: key.excluded, nameId, ruleSlot: slots.get(key.name),
          sdName: sd ? key.sdName : undefined, sdId: sd ? key.sdId : undefined, mustBeIp: key.mustBeIp,
        };
      },
      (seconds) => this.plan.stamp3164(seconds),
    );
    this.kernel.configure({
      header: hec ? 'hec' : config.format, body, quote: config.kvQuote, maxMessageBytes: config.encoding.maxMessageBytes,
      separator: this.plan.separator(), head: this.plan.head(), lead: this.plan.lead(),
      // HEC events are concatenated.
      framing: config.encoding.kind === 'hec-event' ? 'none' : config.encoding.framing,
    });
    if (event) {
      const parts = eventHeadParts(config.event, body, source.logstore);
      const utf8 = (text: string) => Buffer.from(text, 'utf8');
      this.kernel.configureEvent({
        pre: utf8(parts.pre), fallbackId: utf8(parts.fallbackId), mid: utf8(parts.mid), post: utf8(parts.post), severities: parts.severities,
        severity: config.severity,
        idSlot: idField === undefined ? undefined : slots.get(idField), idDotted: idField?.includes('.') ?? false,
        nameSlot: nameField === undefined ? undefined : slots.get(nameField), nameDotted: nameField?.includes('.') ?? false,
      });
    }
    const escapes = this.plan.escapeTables();
    const quote = kvQuoteTriggers();
    this.kernel.configureEscapes(escapes.body, escapes.sd, escapes.header, quote.ascii, quote.wide);
    if (sd) this.kernel.configureSd(Buffer.from(`[${config.structuredDataId}`, 'latin1'), config.encoding.maxMessageBytes - SD_MIN_ROOM);
    if (rules.length > 0) {
      const kernelRules = rules.map((r) => ({
        kind: r.kind, slot: slots.get(r.field)!, star: r.value === '*', dotted: r.field.includes('.'), level: r.level, value: r.value === '*' ? '' : r.value,
      }));
      this.kernel.configureRules(kernelRules, config.severity, config.facility);
    }
    const idKey = config.recordId ? this.plan.key('__record_id__') : undefined;
    const idTrackable = idKey !== undefined && (idKey.outId >= 0 || !this.namesTracked) && (idKey.sdId >= 0 || !sd);
    this.idKey =
      idKey && !idKey.excluded && idTrackable
        ? { bytes: body === 'none' ? EMPTY : idKey.bytes, nameId: this.namesTracked ? idKey.outId : 0, sdName: idKey.sdName, sdId: sd ? idKey.sdId : 0 }
        : undefined;
    this.recordIdExcluded = idKey?.excluded ?? false;
  }

  /** Decodes an LZ4 block into this kernel's memory, where sendBody reads it without a copy. */
  decodeLz4(block: Buffer, rawSize: number): { body: Buffer; at: number } | undefined {
    return this.kernel.decodeLz4(block, rawSize);
  }

  /**
   * Encodes every record of `body` (a LogGroupList). `idPrefix(g)` is the record-id prefix of group g
   * (undefined: no record ids). `rawAt`: where the body already is in the kernel's memory, if it is.
   */
  *encode(body: Buffer, idPrefix: (group: number) => string | undefined, rawAt?: number): Generator<Chunk> {
    const k = this.kernel;
    const at = rawAt ?? k.load(body);
    const spans = groupSpans(body);
    for (let g = 0; g < spans.length / 2; g++) {
      const start = spans[2 * g]!;
      const end = spans[2 * g + 1]!;
      const prefix = idPrefix(g);
      const { tail, extras, extraIds, sdParams, sdIds } = this.parts(materializeGroupMeta(decodeGroupMeta(body, start, end, k.skipLogs(at, start, end))));
      let view: GroupView | undefined;
      // Record ids on, but their key is not one the kernel can write: the reference does the group.
      const idsInJs = prefix !== undefined && !this.idKey && !this.recordIdExcluded;
      if (idsInJs || !k.beginGroup(at, start, end, tail, extras, extraIds, this.idKey, prefix, { params: sdParams, ids: sdIds })) {
        view = decodeGroupView(body, start, end);
        for (let i = 0; i < view.logs.length; i++) yield this.one(view, i, prefix);
        yield GROUP_DONE;
        continue;
      }
      for (;;) {
        const status = k.step(this.stepBytes);
        const frames = k.output();
        if (frames.length > 0) {
          this.stats.kernel += k.stepRecords();
          yield { kind: 'frames', bytes: frames, records: k.stepRecords(), messageBytes: k.stepMessageBytes() };
        }
        if (status === StepStatus.GroupDone) break;
        if (status === StepStatus.OutFull) continue;
        // Decoding the group in JS also raises the proper DecodeError if it is corrupt (the records
        // before the damage are sent by then: the invocation fails and the range is retried).
        view ??= decodeGroupView(body, start, end);
        const from = k.fallbackLog();
        if (status === StepStatus.Fallback) {
          yield this.one(view, from, prefix);
          continue;
        }
        for (let i = from; i < view.logs.length; i++) yield this.one(view, i, prefix);
        break;
      }
      yield GROUP_DONE;
    }
  }

  /** The plan's group parts, with name ids only where they matter (JSON, CEF and LEEF names). */
  private parts(group: LogGroup): GroupParts {
    const parts = this.plan.groupParts(group);
    return this.namesTracked ? parts : { ...parts, extraIds: parts.extraIds.map(() => 0) };
  }

  private one(view: GroupView, index: number, prefix: string | undefined): Chunk {
    const { bytes, truncated } = this.reference.format(view, view.logs[index]!, prefix === undefined ? undefined : prefix + index);
    this.stats.fallback++;
    return { kind: 'message', bytes, truncated };
  }
}
