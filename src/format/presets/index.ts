/** The field presets (FIELD_PRESET): one file per log type. Adding one: a file here, its line below, its golden samples. */
import { actiontrail } from './actiontrail';
import { alb } from './alb';
import { cloudfirewall } from './cloudfirewall';
import type { FieldPreset } from './types';
import { waf } from './waf';

export type { FieldPreset, FieldTable } from './types';

export const FIELD_PRESETS: Readonly<Record<string, FieldPreset>> = { waf, actiontrail, cloudfirewall, alb };

/** The preset of that name (its own ones only: `toString` names none). */
export function fieldPreset(name: string | undefined): FieldPreset | undefined {
  const key = name?.trim().toLowerCase() ?? '';
  return Object.hasOwn(FIELD_PRESETS, key) ? FIELD_PRESETS[key] : undefined;
}
