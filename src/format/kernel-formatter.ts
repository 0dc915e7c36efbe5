/**
 * Ships a whole decompressed PullLogs body through the WebAssembly kernel: it writes framed
 * messages for many records per call, and hands back to JavaScript (FastFormatter, the same
 * bytes by construction and by test) each record it does not handle itself: invalid UTF-8,
 * unusual protobuf, messages over its size limit, record-level decode errors.
 */
import type { ForwarderConfig } from '../config';
import { decodeGroupMeta, decodeGroupView, groupSpans, type GroupView } from '../decode/log-group';
import { Kernel, KEY_SCRATCH_BYTES, StepStatus } from '../native/kernel';
import type { SyslogTransport } from '../transport/transport';
import { FastFormatter } from './fast-formatter';
import type { SourceInfo } from './message';

/** A transport that also takes messages already framed for it (stream transports). */
export type FramedTransport = SyslogTransport & Required<Pick<SyslogTransport, 'sendFramed'>>;

export interface BatchCounts {
  records: number;
  sentBytes: number;
  truncated: number;
  groups: number;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Frames per kernel call: about one socket write (stream transports batch 256 KiB). */
const STEP_BYTES = 240 * 1024;

export class KernelFormatter {
  private readonly kernel: Kernel;
  private readonly fast: FastFormatter;
  private readonly idKey: Buffer | undefined;
  /** Records written by the kernel and by the JavaScript fallback (tests and tuning read these). */
  readonly stats = { kernel: 0, fallback: 0 };

  /** RFC 5424 kv messages without rules or STRUCTURED-DATA, over TCP or TLS: the common case. */
  static supports(config: ForwarderConfig): boolean {
    return (
      config.output === 'syslog' && config.protocol !== 'udp' && config.format === 'rfc5424' && config.messageFormat === 'kv' &&
      config.severityRules.length === 0 && config.facilityRules.length === 0 && FastFormatter.supports(config)
    );
  }

  constructor(config: ForwarderConfig, source: SourceInfo) {
    this.fast = new FastFormatter(config, source);
    this.kernel = new Kernel((memory, at, length) => {
      const kv = this.fast.kernelKey(memory, at, at + length);
      if (!kv) return -1;
      if (kv.length > KEY_SCRATCH_BYTES) return -2;
      kv.copy(memory, at);
      return kv.length;
    });
    const { head, lead } = this.fast.kernelHeadAndLead();
    this.kernel.configure({
      quote: config.kvQuote, framing: config.framing, maxMessageBytes: config.maxMessageBytes,
      separator: Buffer.from(config.kvSeparator, 'utf8'), head, lead,
    });
    this.idKey = config.recordId ? this.fast.kernelRecordIdKey() : undefined;
  }

  /** Decodes an LZ4 block into the kernel's memory: the body (a view, valid until the next decode) and where it is; undefined if the block is corrupt. */
  decodeLz4(block: Buffer, rawSize: number): { body: Buffer; at: number } | undefined {
    const at = this.kernel.lz4(block, rawSize);
    return at === undefined ? undefined : { body: this.kernel.memory().subarray(at, at + rawSize), at };
  }

  /**
   * Sends every record of `body` (a LogGroupList). `idPrefix(g)` is the record-id prefix of group g
   * (undefined: no record ids). `rawAt`: where the body already is in the kernel's memory, if it is.
   */
  async sendBody(body: Buffer, transport: FramedTransport, counts: BatchCounts, idPrefix: (group: number) => string | undefined, rawAt?: number): Promise<void> {
    const k = this.kernel;
    const at = rawAt ?? k.load(body);
    const spans = groupSpans(body);
    for (let g = 0; g < spans.length / 2; g++) {
      const start = spans[2 * g]!;
      const end = spans[2 * g + 1]!;
      const prefix = idPrefix(g);
      const { tail, extras } = this.fast.kernelGroupParts(decodeGroupMeta(body, start, end, k.skipLogs(at, start, end)));
      let view: GroupView | undefined;
      if (!k.beginGroup(at, start, end, tail, extras, this.idKey, prefix)) {
        view = decodeGroupView(body, start, end);
        for (let i = 0; i < view.logs.length; i++) await this.sendOne(view, i, prefix, transport, counts);
        counts.groups++;
        continue;
      }
      for (;;) {
        const status = k.step(STEP_BYTES);
        const frames = k.output();
        if (frames.length > 0) {
          const wait = transport.sendFramed(frames);
          counts.records += k.stepRecords();
          this.stats.kernel += k.stepRecords();
          counts.sentBytes += k.stepMessageBytes();
          // Waiting on the socket, or else a turn of the event loop: the next PullLogs answer is read
          // while this batch is formatted, instead of piling up in the kernel (measured: -90 % pull wait).
          await (wait ?? nextTurn());
        }
        if (status === StepStatus.GroupDone) break;
        if (status === StepStatus.OutFull) continue;
        // Decoding the group in JS also raises the proper DecodeError if it is corrupt.
        view ??= decodeGroupView(body, start, end);
        const from = k.fallbackLog();
        if (status === StepStatus.Fallback) {
          await this.sendOne(view, from, prefix, transport, counts);
          continue;
        }
        for (let i = from; i < view.logs.length; i++) await this.sendOne(view, i, prefix, transport, counts);
        break;
      }
      counts.groups++;
    }
  }

  private async sendOne(view: GroupView, index: number, prefix: string | undefined, transport: SyslogTransport, counts: BatchCounts): Promise<void> {
    const { bytes, truncated } = this.fast.format(view, view.logs[index]!, prefix === undefined ? undefined : prefix + index);
    const wait = transport.send(bytes);
    this.stats.fallback++;
    counts.records++;
    counts.sentBytes += bytes.length;
    if (truncated) counts.truncated++;
    if (wait) await wait;
  }
}
