/**
 * One record as a Splunk HEC event: `{"time":<epoch.ms>,"host","source","sourcetype","index",
 * "event":{...fields}}`. The fields follow the same rules as the JSON body (renames, filters,
 * repeated keys as key_2...); time is the log's own time. `ReferenceHecEventFormatter` builds it
 * from strings; `HecEventFormatter` writes the same bytes with FastFormatter's JSON body writer.
 */
import type { ForwarderConfig, HecSettings } from '../config';
import { materializeGroupMeta, materializeLog, type GroupView, type LogGroup, type LogView } from '../decode/log-group';
import { fieldsObject } from './body';
import { FastFormatter } from './fast-formatter';
import { recordFields, selectFields } from './fields';
import type { RecordFormatter } from './index';
import type { FormattedMessage, SourceInfo } from './message';

/** `"time":<epoch>.<ms>` as HEC wants it (milliseconds, from the log's own nanoseconds). */
function hecTime(log: LogView): string {
  const ms = String(Math.floor(Math.min(Math.max(log.timeNs, 0), 999_999_999) / 1e6)).padStart(3, '0');
  return `"time":${log.time}.${ms}`;
}

/** host, source, sourcetype, index (undefined ones left out, as JSON.stringify does). */
function hecMeta(config: ForwarderConfig, hec: HecSettings, source: SourceInfo, groupSource: string): Record<string, unknown> {
  return {
    host: config.hostname ?? (groupSource || undefined),
    source: hec.source ?? `sls:${source.project}/${source.logstore}`,
    sourcetype: hec.sourcetype,
    index: hec.index,
  };
}

export class ReferenceHecEventFormatter implements RecordFormatter {
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
    const event = { ...hecMeta(this.config, this.hec, this.source, meta.source), event: fieldsObject(selectFields(fields, this.config.fields)) };
    const json = `{${hecTime(log)},${JSON.stringify(event).slice(1)}`;
    return { bytes: Buffer.from(json, 'utf8'), truncated: false };
  }
}

export class HecEventFormatter implements RecordFormatter {
  private readonly fast: FastFormatter;
  private lastGroup: GroupView | undefined;
  /** `,"host":..,"index":..,"event":` for the current group. */
  private middle = '';
  private out = Buffer.allocUnsafe(16 * 1024);

  constructor(private readonly config: ForwarderConfig, private readonly source: SourceInfo) {
    this.fast = new FastFormatter(config, source);
  }

  format(group: GroupView, log: LogView, recordId?: string): FormattedMessage {
    if (group !== this.lastGroup) {
      this.lastGroup = group;
      const groupSource = group.source ? group.buf.toString('utf8', group.source[0], group.source[1]) : '';
      const meta = JSON.stringify(hecMeta(this.config, this.config.hec!, this.source, groupSource)).slice(1, -1);
      this.middle = `${meta ? `,${meta}` : ''},"event":`;
    }
    const body = this.fast.jsonBody(group, log, recordId);
    const head = `{${hecTime(log)}${this.middle}`;
    // One reused buffer: the transport copies the event before the next one is made.
    const size = Buffer.byteLength(head) + body.length + 1;
    if (this.out.length < size) this.out = Buffer.allocUnsafe(Math.max(size, 2 * this.out.length));
    let n = this.out.write(head, 0, 'utf8');
    n += body.copy(this.out, n);
    this.out[n++] = 0x7d; // }
    return { bytes: this.out.subarray(0, n), truncated: false };
  }
}
