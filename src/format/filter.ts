/**
 * OUTPUT_FILTER: which records an output takes, by the value of a field, e.g.
 * `final_action!=pass` (everything but passed requests to the SIEM) or `status=4*|5*`. Conditions
 * separated by `,` must all hold; `|` separates the values one condition accepts; `*` matches any
 * run of characters; comparison ignores case. A record without the field has no value: `=` fails and
 * `!=` holds. Heavy filtering belongs in SLS (SPL in the trigger or SLS_QUERY), before the pull.
 */
import type { SettingsReader } from '../config/reader';
import type { Field } from '../decode/log-group';
import { globToRegExp } from './fields';

interface Condition {
  field: string;
  negate: boolean;
  values: RegExp[];
}

export class RecordFilter {
  constructor(readonly text: string, private readonly conditions: readonly Condition[]) {}

  /** The fields a condition reads (record fields, or __topic__, __source__, __tag__:...). */
  get fields(): string[] {
    return [...new Set(this.conditions.map((c) => c.field))];
  }

  keeps(fields: readonly Field[]): boolean {
    for (const c of this.conditions) {
      const found = fields.find(([key]) => key === c.field);
      const matches = found !== undefined && c.values.some((v) => v.test(found[1]));
      if (matches === c.negate) return false;
    }
    return true;
  }
}

const CONDITION = /^([^=!]+?)\s*(!?=)\s*(.*)$/;

export function readFilter(r: SettingsReader): RecordFilter | undefined {
  const text = r.text('OUTPUT_FILTER');
  if (text === undefined) return undefined;
  const conditions: Condition[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = CONDITION.exec(part);
    if (!m || m[3]!.trim() === '') {
      r.problems.push(`OUTPUT_FILTER: "${part}" is not field=value or field!=value (e.g. OUTPUT_FILTER=final_action!=pass, or status=4*|5*).`);
      continue;
    }
    const values = m[3]!.split('|').map((v) => v.trim()).filter((v) => v !== '');
    conditions.push({ field: m[1]!.trim(), negate: m[2] === '!=', values: values.map((v) => new RegExp(globToRegExp(v).source, 'is')) });
  }
  return conditions.length > 0 ? new RecordFilter(text, conditions) : undefined;
}
