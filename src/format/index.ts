/** Picks the formatter for the settings: the fast byte-level one when it applies, else the reference. */
import type { ForwarderConfig } from '../config';
import { materializeGroupMeta, materializeLog, type GroupView, type LogGroup, type LogView } from '../decode/log-group';
import { FastFormatter } from './fast-formatter';
import { HecEventFormatter } from './hec-event';
import { MessageFormatter, type FormattedMessage, type SourceInfo } from './message';

/** What ship.ts calls per log, on the decoded (undecoded-string) views. */
export interface RecordFormatter {
  format(group: GroupView, log: LogView, recordId?: string): FormattedMessage;
}

/** The reference formatter over views: group strings once per group, log strings per log. */
class MaterializingFormatter implements RecordFormatter {
  private lastGroup: GroupView | undefined;
  private meta: LogGroup | undefined;
  constructor(private readonly inner: MessageFormatter) {}

  format(group: GroupView, log: LogView, recordId?: string): FormattedMessage {
    if (group !== this.lastGroup) {
      this.lastGroup = group;
      this.meta = materializeGroupMeta(group);
    }
    return this.inner.format(this.meta!, materializeLog(group, log), recordId);
  }
}

export function createFormatter(config: ForwarderConfig, source: SourceInfo, options: { reference?: boolean } = {}): RecordFormatter {
  if (config.output === 'splunk-hec') return new HecEventFormatter(config, source);
  return FastFormatter.supports(config) && !options.reference
    ? new FastFormatter(config, source)
    : new MaterializingFormatter(new MessageFormatter(config, source));
}
