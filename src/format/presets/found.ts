/** The fields a preset finds in each record (by path into a JSON field, or the record's result), after its own. */
import type { Field } from '../../decode/log-group';
import type { FieldLookup } from '../lookup';
import type { FoundField } from './plan';

export function addFound(fields: Field[], found: readonly FoundField[], lookup: FieldLookup | undefined): Field[] {
  if (found.length === 0 || !lookup) return fields;
  const out = fields.slice();
  for (const f of found) {
    if ('path' in f) {
      const value = lookup.get(f.path);
      if (value !== undefined && value !== '') out.push([f.name, value]);
    } else {
      const failed = lookup.get(f.failureWhenSet);
      out.push([f.name, failed !== undefined && failed !== '' && failed !== 'null' ? 'failure' : 'success']);
    }
  }
  return out;
}
