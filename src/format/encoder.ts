/**
 * An output's encoder: PullLogs bodies in, chunks of its messages out (format/kernel-engine.ts's
 * `Chunk`). It never touches a connection: the shipping loop sends what it yields. The kernel
 * engine does the work where the settings allow; otherwise the reference engine does every record.
 */
import { decodeGroupView, groupSpans, materializeGroupMeta, materializeLog } from '../decode/log-group';
import { Kernel } from '../native/kernel';
import type { EncoderSettings } from './encoding';
import { recordFields } from './fields';
import type { RecordFilter } from './filter';
import { kernelDeclines, KernelEngine, type Chunk } from './kernel-engine';
import { referenceFormatter } from './reference-engine';
import type { SourceInfo } from './syslog-message';

export type { Chunk } from './kernel-engine';

export interface Encoder {
  /** `kernel`, or `reference (<why the kernel declined>)`. */
  readonly engine: string;
  /** Decodes an LZ4 block into WebAssembly memory, where `encode` reads it without a copy (`at`). */
  decodeLz4(block: Buffer, rawSize: number): { body: Buffer; at: number } | undefined;
  encode(body: Buffer, idPrefix: (group: number) => string | undefined, rawAt?: number): Generator<Chunk>;
}

class KernelEncoder implements Encoder {
  readonly engine = 'kernel';
  constructor(private readonly kernel: KernelEngine) {}
  decodeLz4(block: Buffer, rawSize: number) {
    return this.kernel.decodeLz4(block, rawSize);
  }
  encode(body: Buffer, idPrefix: (group: number) => string | undefined, rawAt?: number): Generator<Chunk> {
    return this.kernel.encode(body, idPrefix, rawAt);
  }
}

const GROUP_DONE: Chunk = { kind: 'group' };

/** Every record through the reference engine, and the output's filter. */
class ReferenceEncoder implements Encoder {
  private readonly formatter;
  /** LZ4 is decoded in WebAssembly either way, here in an LZ4-only kernel (made on first use). */
  private lz4: Kernel | undefined;

  constructor(readonly engine: string, settings: EncoderSettings, source: SourceInfo, private readonly filter: RecordFilter | undefined) {
    this.formatter = referenceFormatter(settings, source);
  }

  decodeLz4(block: Buffer, rawSize: number) {
    return (this.lz4 ??= new Kernel()).decodeLz4(block, rawSize);
  }

  *encode(body: Buffer, idPrefix: (group: number) => string | undefined): Generator<Chunk> {
    const spans = groupSpans(body);
    for (let g = 0; g < spans.length / 2; g++) {
      const view = decodeGroupView(body, spans[2 * g]!, spans[2 * g + 1]!);
      const meta = this.filter ? materializeGroupMeta(view) : undefined;
      const prefix = idPrefix(g);
      for (let i = 0; i < view.logs.length; i++) {
        const log = view.logs[i]!;
        if (this.filter && !this.filter.keeps(recordFields(meta!, materializeLog(view, log)))) {
          yield { kind: 'filtered' };
          continue;
        }
        const { bytes, truncated } = this.formatter.format(view, log, prefix === undefined ? undefined : prefix + i);
        yield { kind: 'message', bytes, truncated };
      }
      yield GROUP_DONE;
    }
  }
}

export function createEncoder(settings: EncoderSettings, source: SourceInfo, filter?: RecordFilter): Encoder {
  const declined = kernelDeclines(settings, filter);
  if (declined === undefined) return new KernelEncoder(new KernelEngine(settings, source));
  return new ReferenceEncoder(`reference (${declined})`, settings, source, filter);
}
