/**
 * The WebAssembly kernel (src/native/*.c): LZ4 block decoding and the per-record
 * protobuf → syslog message / HEC event path, ~10x faster than the reference engine. This wrapper owns one
 * instance: its memory, the key callback and typed access to the exports.
 */
import { KERNEL_WASM_BASE64 } from './kernel-wasm';

// @types/node declares no WebAssembly API (it lives in lib.dom): the little used here, typed locally.
interface WasmMemory {
  buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface KernelExports {
  memory: WasmMemory;
  out_ptr(): number;
  key_scratch_ptr(): number;
  group_area_ptr(): number;
  extras_lens_ptr(): number;
  extras_ids_ptr(): number;
  sd_extras_lens_ptr(): number;
  sd_extras_ids_ptr(): number;
  key_answer_ptr(): number;
  out_length(): number;
  step_records(): number;
  step_message_bytes(): number;
  fallback_log(): number;
  input_reserve(size: number): number;
  configure(header3164: number, body: number, quote: number, framing: number, maxMessage: number, separatorLength: number, headLength: number, leadLength: number): void;
  configure_rules(count: number, severity: number, facility: number): void;
  configure_sd(openLength: number, limit: number): void;
  configure_event(pre: number, fallback: number, mid: number, post: number, severity: number, idSlot: number, idDotted: number, nameSlot: number, nameDotted: number): void;
  configure_escapes(wide: number): void;
  group_begin(
    inBase: number, start: number, end: number, tailLength: number, extras: number, idKeyLength: number, idPrefixLength: number, idKeyId: number,
    sdExtras: number, idSdNameLength: number, idSdNameId: number,
  ): void;
  group_step(target: number): number;
  skip_logs(inBase: number, start: number, end: number): number;
  lz4_decode(src: number, srcLength: number, dst: number, rawSize: number): number;
}

export const enum StepStatus {
  GroupDone = 0,
  /** The output area is full: send it and step again. */
  OutFull = 1,
  /** One record (fallbackLog) must be formatted by JavaScript; the kernel continues after it. */
  Fallback = 2,
  /** The rest of the group, from fallbackLog, must go through JavaScript. */
  GroupFallback = 3,
}

export const KEY_SCRATCH_BYTES = 64 * 1024;
export const GROUP_AREA_BYTES = 64 * 1024;
export const MAX_EXTRAS = 256;
export const MAX_RULES = 32;
export const MAX_RULE_SLOTS = 15;

export interface KernelRule {
  kind: 0 | 1;
  slot: number;
  star: boolean;
  /** The field name has a dot: when the field is absent, JavaScript must look inside JSON. */
  dotted: boolean;
  level: number;
  /** Lower-cased value to match. */
  value: string;
}
const SLACK = 64;
const NO_SLOT = 255;
const EMPTY = Buffer.alloc(0);

let compiled: object | undefined;

/** What JavaScript tells the kernel about a key; undefined: records with it go through JavaScript. */
export interface KeyAnswer {
  /** The key as written in the body (`key`, or `"key":` for JSON); empty when excluded. */
  bytes: Buffer;
  excluded: boolean;
  /** Id of the name in the body (JSON: repeats go to JavaScript), below MAX_NAME_IDS. */
  nameId: number;
  /** Which rule slot reads this field, if any. */
  ruleSlot: number | undefined;
  /** With STRUCTURED-DATA: the PARAM-NAME and its id (repeats go to JavaScript). */
  sdName?: Buffer;
  sdId?: number;
  /** Its name is a standard key for an address: a value that is no IPv4 address goes through JavaScript. */
  mustBeIp?: boolean;
}

export const MAX_NAME_IDS = 1024;
const KEY_TO_JS = -2;

export type KeyCallback = (memory: Buffer, at: number, length: number) => KeyAnswer | undefined;

export class Kernel {
  private readonly x: KernelExports;
  private view: Buffer;
  private readonly outAt: number;

  /** Without callbacks: a kernel used for LZ4 only. */
  constructor(onKey: KeyCallback = () => undefined, onStamp3164: (seconds: number) => string = () => '') {
    compiled ??= new wasm.Module(Buffer.from(KERNEL_WASM_BASE64, 'base64'));
    const instance = new wasm.Instance(compiled, {
      env: {
        key: (at: number, length: number) => this.answerKey(onKey(this.memory(), at, length), at),
        stamp3164: (seconds: number) => void this.memory().write(onStamp3164(seconds), this.x.key_scratch_ptr(), 'latin1'),
      },
    });
    this.x = instance.exports as unknown as KernelExports;
    this.view = Buffer.from(this.x.memory.buffer);
    this.outAt = this.x.out_ptr();
  }

  /**
   * kernel.c's js_key answer: the key (then the PARAM-NAME) written over the raw key in key_scratch,
   * the PARAM-NAME's length and id in key_answer, and bits 0-15 length, 16 excluded, 17-26 name id,
   * 27-30 rule slot + 1 returned.
   */
  private answerKey(a: KeyAnswer | undefined, at: number): number {
    const sd = a?.sdName ?? EMPTY;
    if (!a || a.bytes.length + sd.length > KEY_SCRATCH_BYTES || a.nameId >= MAX_NAME_IDS || (a.sdId ?? 0) >= MAX_NAME_IDS || a.sdId! < 0) return KEY_TO_JS;
    const mem = this.memory();
    a.bytes.copy(mem, at);
    sd.copy(mem, at + a.bytes.length);
    const answer = this.x.key_answer_ptr();
    mem.writeUInt32LE(sd.length, answer);
    mem.writeUInt32LE(a.sdId ?? 0, answer + 4);
    mem.writeUInt32LE(a.mustBeIp ? 1 : 0, answer + 8);
    return a.bytes.length | (a.excluded ? 1 << 16 : 0) | (a.nameId << 17) | ((a.ruleSlot === undefined ? 0 : a.ruleSlot + 1) << 27);
  }

  /** The whole memory; a new view after it grew (growing detaches the old one). */
  memory(): Buffer {
    if (this.view.buffer !== this.x.memory.buffer) this.view = Buffer.from(this.x.memory.buffer);
    return this.view;
  }

  configure(options: {
    header: 'rfc5424' | 'rfc3164' | 'hec'; body: 'kv' | 'json' | 'none' | 'cef' | 'leef'; quote: 'escape' | 'none' | 'auto' | 'always'; framing: 'octet-counting' | 'newline' | 'none'; maxMessageBytes: number;
    separator: Buffer; head: Buffer; lead: Buffer;
  }): void {
    const scratch = this.x.key_scratch_ptr();
    const parts = Buffer.concat([options.separator, options.head, options.lead]);
    if (options.separator.length > 64 || options.head.length > 64 || options.lead.length > 16) throw new Error('kernel: separator or header prefix too long');
    this.memory().set(parts, scratch);
    this.x.configure(
      { rfc5424: 0, rfc3164: 1, hec: 2 }[options.header], { kv: 0, json: 1, none: 2, cef: 3, leef: 4 }[options.body], { none: 0, auto: 1, always: 2, escape: 3 }[options.quote],
      { 'octet-counting': 0, newline: 1, none: 2 }[options.framing],
      options.maxMessageBytes, options.separator.length, options.head.length, options.lead.length,
    );
  }

  /** Severity (kind 0) and facility (kind 1) rules, in order; `slot` numbers the distinct fields they read. */
  configureRules(rules: KernelRule[], severity: number, facility: number): void {
    if (rules.length > MAX_RULES) throw new Error('kernel: too many rules');
    const parts = rules.map((r) => {
      const value = Buffer.from(r.value, 'utf8');
      if (value.length > 63 || r.slot >= MAX_RULE_SLOTS) throw new Error('kernel: rule value or field count too large');
      return Buffer.concat([Buffer.from([r.kind, r.slot, r.star ? 1 : 0, r.dotted ? 1 : 0, r.level, value.length]), value]);
    });
    this.memory().set(Buffer.concat(parts), this.x.key_scratch_ptr());
    this.x.configure_rules(rules.length, severity, facility);
  }

  /**
   * CEF/LEEF header parts: `pre` (`CEF:0|V|P|Ver|`), the escaped fallback event id, LEEF's parts
   * around the time; the default severity; the rule slots of the event id and name fields and
   * whether their names have a dot.
   */
  configureEvent(e: {
    pre: Buffer; fallbackId: Buffer; mid: Buffer; post: Buffer; severities: readonly number[]; severity: number;
    idSlot: number | undefined; idDotted: boolean; nameSlot: number | undefined; nameDotted: boolean;
  }): void {
    const parts = [e.pre, e.fallbackId, e.mid, e.post];
    if (parts.some((p) => p.length > 256)) throw new Error('kernel: event header part too long');
    this.memory().set(Buffer.concat([...parts, Buffer.from(e.severities)]), this.x.key_scratch_ptr());
    this.x.configure_event(
      e.pre.length, e.fallbackId.length, e.mid.length, e.post.length, e.severity,
      e.idSlot ?? NO_SLOT, e.idDotted ? 1 : 0, e.nameSlot ?? NO_SLOT, e.nameDotted ? 1 : 0,
    );
  }

  /**
   * The escape tables (escapes.ts's kernelEscapeTable) for values in the body, in STRUCTURED-DATA
   * and in the event header; and what makes kv's `auto` quote: a 128-byte map of ASCII characters
   * and the UTF-8 bytes of the others (at most 3 each).
   */
  configureEscapes(body: Buffer, sd: Buffer, header: Buffer, quoteAscii: Buffer, quoteWide: Buffer[]): void {
    if (quoteAscii.length !== 128 || quoteWide.length > 64 || quoteWide.some((c) => c.length > 3)) throw new Error('kernel: quote triggers out of range');
    const packed = quoteWide.map((c) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(c.reduce((n, byte) => (n << 8) | byte, 0) >>> 0);
      return b;
    });
    this.memory().set(Buffer.concat([body, sd, header, quoteAscii, ...packed]), this.x.key_scratch_ptr());
    this.x.configure_escapes(quoteWide.length);
  }

  /** STRUCTURED-DATA on: `open` is `[SD-ID`, `limit` the most a header with its STRUCTURED-DATA may take. */
  configureSd(open: Buffer, limit: number): void {
    if (open.length > 40) throw new Error('kernel: SD-ID too long');
    this.memory().set(open, this.x.key_scratch_ptr());
    this.x.configure_sd(open.length, limit);
  }

  /** Copies `bytes` into the input region (growing memory if needed); returns its offset. */
  load(bytes: Buffer): number {
    const at = this.reserve(bytes.length);
    this.memory().set(bytes, at);
    return at;
  }

  /** Room for a raw body of `size` bytes in the input region; returns its offset. */
  reserve(size: number): number {
    const at = this.x.input_reserve(size);
    if (at === 0) throw new RangeError(`kernel: cannot grow memory for a ${size}-byte batch`);
    return at;
  }

  /**
   * Starts a group: the header tail, the group's fields rendered for the body (with their name ids),
   * the record id's key and prefix, and with STRUCTURED-DATA the group's params and the record id's
   * PARAM-NAME. Returns false if they do not fit (JavaScript then does the group).
   */
  beginGroup(
    inputAt: number, start: number, end: number, tail: Buffer, extras: Buffer[], extraIds: number[],
    idKey: { bytes: Buffer; nameId: number; sdName?: Buffer; sdId?: number } | undefined, idPrefix: string | undefined,
    sd: { params: Buffer[]; ids: number[] } = { params: [], ids: [] },
  ): boolean {
    if (extras.length > MAX_EXTRAS || sd.params.length > MAX_EXTRAS) return false;
    if ([...extraIds, ...sd.ids].some((id) => id < 0 || id >= MAX_NAME_IDS)) return false;
    const mem = this.memory();
    let p = this.x.group_area_ptr();
    const limit = p + GROUP_AREA_BYTES;
    const idPrefixBytes = idKey && idPrefix !== undefined ? Buffer.from(idPrefix, 'utf8') : undefined;
    const withId = idKey !== undefined && idPrefixBytes !== undefined;
    const idSdName = withId ? (idKey.sdName ?? EMPTY) : EMPTY;
    let total = tail.length + (withId ? idKey.bytes.length + idPrefixBytes.length + idSdName.length : 0);
    for (const e of [...extras, ...sd.params]) total += e.length;
    if (p + total > limit) return false;
    p += tail.copy(mem, p);
    const put = (parts: Buffer[], ids: number[], lens: number, idAt: number) =>
      parts.forEach((e, i) => {
        mem.writeUInt32LE(e.length, lens + 4 * i);
        mem.writeUInt32LE(ids[i]!, idAt + 4 * i);
        p += e.copy(mem, p);
      });
    put(extras, extraIds, this.x.extras_lens_ptr(), this.x.extras_ids_ptr());
    if (withId) {
      p += idKey.bytes.copy(mem, p);
      p += idPrefixBytes.copy(mem, p);
    }
    put(sd.params, sd.ids, this.x.sd_extras_lens_ptr(), this.x.sd_extras_ids_ptr());
    idSdName.copy(mem, p);
    this.x.group_begin(
      inputAt, start, end, tail.length, extras.length, withId ? idKey.bytes.length : -1, idPrefixBytes?.length ?? 0, withId ? idKey.nameId : 0,
      sd.params.length, idSdName.length, withId ? (idKey.sdId ?? 0) : 0,
    );
    return true;
  }

  /** Where the fields after a group's leading logs start (its topic, source and tags, usually). */
  skipLogs(inputAt: number, start: number, end: number): number {
    return this.x.skip_logs(inputAt, start, end);
  }

  /** Formats records until about `targetBytes` of frames are written (see StepStatus). */
  step(targetBytes: number): StepStatus {
    return this.x.group_step(targetBytes);
  }

  /** What the last step wrote: framed messages, ready for the socket (valid until the next call). */
  output(): Buffer {
    return this.memory().subarray(this.outAt, this.outAt + this.x.out_length());
  }

  stepRecords(): number {
    return this.x.step_records();
  }

  stepMessageBytes(): number {
    return this.x.step_message_bytes();
  }

  fallbackLog(): number {
    return this.x.fallback_log();
  }

  /** LZ4-decodes a block into the kernel's memory: the body (a view, valid until the next decode or load) and where it is; undefined if corrupt. */
  decodeLz4(block: Buffer, rawSize: number): { body: Buffer; at: number } | undefined {
    const at = this.lz4(block, rawSize);
    return at === undefined ? undefined : { body: this.memory().subarray(at, at + rawSize), at };
  }

  /** LZ4-decodes src into the input region (offset returned), or undefined if the block is corrupt. */
  lz4(src: Buffer, rawSize: number): number | undefined {
    // The kernel copies 16 bytes at a time: SLACK spare bytes after the block (and the input region).
    const at = this.reserve(src.length + SLACK + rawSize);
    const dst = at + src.length + SLACK;
    this.memory().set(src, at);
    return this.x.lz4_decode(at, src.length, dst, rawSize) === 0 ? dst : undefined;
  }
}
