/**
 * The reference engine: every format defined in readable TypeScript over strings (syslog-message.ts,
 * hec-event.ts and the rule modules they use). It runs the records the kernel hands back, and
 * whole ranges whose settings the kernel does not take.
 */
import type { EncoderSettings } from './encoding';
import { materializeGroupMeta, materializeLog, type GroupView, type LogGroup, type LogView } from '../decode/log-group';
import { hecEvent } from './hec-event';
import { MessageFormatter, type FormattedMessage, type SourceInfo } from './syslog-message';

/** One record in, one message (unframed) or HEC event out. */
export interface RecordFormatter {
  format(group: GroupView, log: LogView, recordId?: string): FormattedMessage;
}

/** Group strings once per group, log strings per log. */
class ReferenceFormatter implements RecordFormatter {
  private lastGroup: GroupView | undefined;
  private meta: LogGroup | undefined;
  private readonly syslog: MessageFormatter | undefined;

  constructor(private readonly config: EncoderSettings, private readonly source: SourceInfo) {
    this.syslog = config.encoding.kind === 'hec-event' ? undefined : new MessageFormatter(config, source);
  }

  format(group: GroupView, log: LogView, recordId?: string): FormattedMessage {
    if (group !== this.lastGroup) {
      this.lastGroup = group;
      this.meta = materializeGroupMeta(group);
    }
    const record = materializeLog(group, log);
    if (this.syslog) return this.syslog.format(this.meta!, record, recordId);
    return { bytes: Buffer.from(hecEvent(this.config, this.source, this.meta!, record, recordId), 'utf8'), truncated: false };
  }
}

export function referenceFormatter(config: EncoderSettings, source: SourceInfo): RecordFormatter {
  return new ReferenceFormatter(config, source);
}
