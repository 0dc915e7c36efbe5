/**
 * Flattens one log of a group into the key/value list that is shipped, using the SLS naming the
 * Python SDK and the console use: the record's own contents, then `__topic__`, `__source__` and
 * each tag as `__tag__:<key>`.
 */
import type { Field, LogGroup, LogRecord } from '../decode/log-group';

export function recordFields(group: LogGroup, log: LogRecord): Field[] {
  const fields = log.contents.slice();
  if (group.topic !== '') fields.push(['__topic__', group.topic]);
  if (group.source !== '') fields.push(['__source__', group.source]);
  for (const [key, value] of group.tags) fields.push([`__tag__:${key}`, value]);
  return fields;
}
