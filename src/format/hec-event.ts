/**
 * One record as a Splunk HEC event: `{"time":<epoch.ms>,"host","source","sourcetype","index",
 * "event":{...fields}}`. The fields follow the same rules as the JSON body (renames, filters,
 * repeated keys as key_2...); time is the log's own time.
 */
import type { ForwarderConfig, HecSettings } from '../config';
import { materializeGroupMeta, materializeLog, type GroupView, type LogGroup, type LogView } from '../decode/log-group';
import { fieldsObject } from './body';
import { recordFields, selectFields } from './fields';
import type { RecordFormatter } from './index';
import type { FormattedMessage, SourceInfo } from './message';

export class HecEventFormatter implements RecordFormatter {
  private readonly hec: HecSettings;
  private lastGroup: GroupView | undefined;
  private meta: LogGroup | undefined;

  constructor(private readonly config: ForwarderConfig, private readonly source: SourceInfo) {
    this.hec = config.hec!;
  }

  format(group: GroupView, log: LogView, recordId?: string): FormattedMessage {
    if (group !== this.lastGroup) {
      this.lastGroup = group;
      this.meta = materializeGroupMeta(group);
    }
    const meta = this.meta!;
    const fields = recordFields(meta, materializeLog(group, log));
    if (recordId !== undefined) fields.push(['__record_id__', recordId]);
    const event: Record<string, unknown> = {
      host: this.config.hostname ?? (meta.source || undefined),
      source: this.hec.source ?? `sls:${this.source.project}/${this.source.logstore}`,
      sourcetype: this.hec.sourcetype,
      index: this.hec.index,
      event: fieldsObject(selectFields(fields, this.config.fields)),
    };
    const ms = String(Math.floor(Math.min(Math.max(log.timeNs, 0), 999_999_999) / 1e6)).padStart(3, '0');
    const json = `{"time":${log.time}.${ms},${JSON.stringify(event).slice(1)}`;
    return { bytes: Buffer.from(json, 'utf8'), truncated: false };
  }
}
