/**
 * Severity (or facility) from the record: rules `field = value -> level`, first match wins,
 * `*` matches any non-empty value; no match keeps the configured default. Presets for the
 * logs people forward most: Alibaba Cloud WAF and ActionTrail.
 */
import type { FieldLookup } from './lookup';

export interface LevelRule {
  field: string;
  /** Lower-cased value to match, or `*` for any non-empty value. */
  value: string;
  level: number;
}

const S = { emerg: 0, alert: 1, crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7 } as const;

export const SEVERITY_PRESETS: Record<string, LevelRule[]> = {
  // WAF access logs: final_action is what WAF did with the request.
  waf: [
    { field: 'final_action', value: 'block', level: S.warning },
    { field: 'final_action', value: 'captcha', level: S.notice },
    { field: 'final_action', value: 'captcha_strict', level: S.notice },
    { field: 'final_action', value: 'js', level: S.notice },
    { field: 'final_action', value: 'monitor', level: S.notice },
    { field: 'final_action', value: 'pass', level: S.info },
  ],
  // ActionTrail: failed calls first, then writes (changes to resources), then reads.
  actiontrail: [
    { field: 'event.errorCode', value: '*', level: S.warning },
    { field: 'event.eventRW', value: 'write', level: S.notice },
    { field: 'event.eventRW', value: 'read', level: S.info },
  ],
};

export function levelFor(lookup: FieldLookup, rules: LevelRule[], fallback: number): number {
  for (const rule of rules) {
    const value = lookup.get(rule.field);
    if (value === undefined || value === '') continue;
    if (rule.value === '*' || value.toLowerCase() === rule.value) return rule.level;
  }
  return fallback;
}
