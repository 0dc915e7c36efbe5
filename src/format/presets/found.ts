/**
 * A record's fields as its message carries them, with a field preset: its own fields, the preset's
 * constants and the record id; selected and renamed by the field policy; then what the preset finds
 * in the record (values inside JSON, the result). One place for the syslog body and the HEC event.
 */
import type { Field, LogGroup, LogRecord } from '../../decode/log-group';
import { fitsKind, recordFields, selectFields, type ValueKind } from '../fields';
import { FieldLookup } from '../lookup';
import type { FoundField, PresetPlan } from './plan';

/** `lookup` (for level rules and the event header) when asked for, or when the preset reads the record. */
export function messageFields(
  plan: PresetPlan, group: LogGroup, log: LogRecord, recordId: string | undefined, withLookup: boolean,
): { fields: Field[]; lookup: FieldLookup | undefined } {
  const all = recordFields(group, log);
  all.push(...plan.constants);
  if (recordId !== undefined) all.push(['__record_id__', recordId]);
  const lookup = withLookup || plan.found.length > 0 ? new FieldLookup(all) : undefined;
  return { fields: addFound(selectFields(all, plan.fields), plan.found, lookup, plan.fields.fits), lookup };
}

/** A value found for a standard name that does not fit it is left out: the JSON it came from is kept whole. */
function addFound(fields: Field[], found: readonly FoundField[], lookup: FieldLookup | undefined, fits?: ReadonlyMap<string, ValueKind>): Field[] {
  if (found.length === 0 || !lookup) return fields;
  const out = fields.slice();
  for (const f of found) {
    if ('path' in f) {
      const value = lookup.get(f.path);
      const kind = fits?.get(f.name);
      if (value !== undefined && value !== '' && (kind === undefined || fitsKind(kind, value))) out.push([f.name, value]);
    } else {
      const failed = lookup.get(f.failureWhenSet);
      out.push([f.name, failed !== undefined && failed !== '' && failed !== 'null' ? 'failure' : 'success']);
    }
  }
  return out;
}
