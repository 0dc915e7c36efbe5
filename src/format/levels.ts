/**
 * Severity (or facility) from the record: rules `field = value -> level`, first match wins,
 * `*` matches any non-empty value; no match keeps the configured default. Each field preset
 * (format/presets/) carries the rules of its log type.
 */
import type { FieldLookup } from './lookup';

export interface LevelRule {
  field: string;
  /** Lower-cased value to match, or `*` for any non-empty value. */
  value: string;
  level: number;
}

/** Syslog severities by name, for the presets' rules. */
export const S = { emerg: 0, alert: 1, crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7 } as const;

export function levelFor(lookup: FieldLookup, rules: readonly LevelRule[], fallback: number): number {
  for (const rule of rules) {
    const value = lookup.get(rule.field);
    if (value === undefined || value === '') continue;
    if (rule.value === '*' || value.toLowerCase() === rule.value) return rule.level;
  }
  return fallback;
}
