/** The fields a preset finds in each record (by path into a JSON field, or the record's result), after its own. */
import type { Field } from '../../decode/log-group';
import { fitsKind, type ValueKind } from '../fields';
import type { FieldLookup } from '../lookup';
import type { FoundField } from './plan';

/** A value found for a standard name that does not fit it is left out: the JSON it came from is kept whole. */
export function addFound(fields: Field[], found: readonly FoundField[], lookup: FieldLookup | undefined, fits?: ReadonlyMap<string, ValueKind>): Field[] {
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
