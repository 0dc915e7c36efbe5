/**
 * One record as a Splunk HEC event: `{"time":<epoch.ms>,"host","source","sourcetype","index",
 * "event":{...fields}}`. The fields follow the same rules as the JSON body (renames, filters,
 * repeated keys as key_2...); time is the log's own time. The kernel writes the same envelope from
 * hecEnvelope's parts around its JSON body.
 */
import { hecEnvelopeOf, type EncoderSettings, type HecEnvelopeSettings } from './encoding';
import type { LogGroup, LogRecord } from '../decode/log-group';
import { jsonBody } from './body';
import { jsonString } from './escapes';
import type { SourceInfo } from './syslog-message';
import { messageFields } from './presets/found';
import { presetPlan } from './presets/plan';

/** `{"time":`: what comes before the log's time. */
export const HEC_OPEN = '{"time":';

/** `<epoch>.<ms>` as HEC wants it (milliseconds, from the log's own nanoseconds). */
function hecTime(time: number, timeNs: number): string {
  return `${time}.${String(Math.floor(Math.min(Math.max(timeNs, 0), 999_999_999) / 1e6)).padStart(3, '0')}`;
}

/** What follows the time up to the fields: `,"host":..,"source":..,"sourcetype":..,"index":..,"event":` (unset ones left out). */
export function hecEnvelope(config: EncoderSettings, hec: HecEnvelopeSettings, source: SourceInfo, groupSource: string): string {
  const meta = Object.entries({
    host: config.hostname ?? (groupSource || undefined),
    source: hec.source ?? `sls:${source.project}/${source.logstore}`,
    sourcetype: hec.sourcetype,
    index: hec.index,
  }).filter(([, value]) => value !== undefined).map(([name, value]) => `"${name}":${jsonString(value!)}`).join(',');
  return `${meta ? `,${meta}` : ''},"event":`;
}

export function hecEvent(config: EncoderSettings, source: SourceInfo, group: LogGroup, log: LogRecord, recordId?: string): string {
  const { fields } = messageFields(presetPlan(config), group, log, recordId, false);
  return `${HEC_OPEN}${hecTime(log.time, log.timeNs)}${hecEnvelope(config, hecEnvelopeOf(config.encoding), source, group.source)}${jsonBody(fields)}}`;
}
