/**
 * The format settings (SYSLOG_FORMAT, the header fields, the body format, level rules, field
 * selection, record ids), read here next to the code that applies them. Read once per output: an
 * output of a fan-out may override any of them with its prefix.
 */
import type { SettingsReader } from '../config/reader';
import { lookupNamed } from '../config/reader';
import type { KvQuote } from './body';
import type { EventHeaderSettings } from './event-formats';
import { globToRegExp, type FieldPolicy } from './fields';
import { checkTimeZone } from './header';
import type { LevelRule } from './levels';
import { fieldPreset, FIELD_PRESETS, type FieldPreset } from './presets';

export type SyslogFormat = 'rfc5424' | 'rfc3164';
export type MessageFormat = 'kv' | 'json' | 'cef' | 'leef' | 'none';

export interface FormatSettings {
  format: SyslogFormat;
  facility: number;
  severity: number;
  /** Rules that pick the severity/facility from the record (first match wins). */
  severityRules: LevelRule[];
  facilityRules: LevelRule[];
  /** Fixed HOSTNAME; undefined = the log group's source (the machine that produced the log). */
  hostname: string | undefined;
  /** Fixed APP-NAME; undefined = the logstore name. */
  appName: string | undefined;
  procId: string;
  msgId: string;
  /** RFC 5424 STRUCTURED-DATA with the record's fields, under this SD-ID; undefined = `-`. */
  structuredDataId: string | undefined;
  /** RFC 5424: start MSG with a UTF-8 BOM. */
  bom: boolean;
  /** RFC 3164 timestamps' time zone (IANA name). */
  timeZone: string;
  messageFormat: MessageFormat;
  kvSeparator: string;
  kvQuote: KvQuote;
  fields: FieldPolicy;
  event: EventHeaderSettings;
  /** Add `__record_id__` (logstore:shard:group-cursor:index): stable across retries, for de-duplication. */
  recordId: boolean;
  /** FIELD_PRESET: the log type whose fields get the body's standard names (format/presets/). */
  preset: FieldPreset | undefined;
  /** JSON_SCHEMA=ecs: a JSON body in the Elastic Common Schema. */
  jsonSchema: 'ecs' | undefined;
}

export const FACILITIES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, ftp: 11, ntp: 12, security: 13, console: 14, solaris_cron: 15,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

export const SEVERITIES: Record<string, number> = {
  emerg: 0, emergency: 0, alert: 1, crit: 2, critical: 2, err: 3, error: 3,
  warning: 4, warn: 4, notice: 5, info: 6, informational: 6, debug: 7,
};

/** `<FIELD>` names a record field, `<MAP>` maps its values to levels (`block:warning,*:info`). */
function mappedRules(r: SettingsReader, fieldName: string, mapName: string, table: Record<string, number>, max: number): LevelRule[] {
  const field = r.text(fieldName);
  const map = r.pairs(mapName);
  if ((field === undefined) !== (map.length === 0)) {
    r.problems.push(`${fieldName} and ${mapName} go together (e.g. ${fieldName}=final_action, ${mapName}=block:warning,pass:info).`);
    return [];
  }
  const rules: LevelRule[] = [];
  for (const [value, level] of map) {
    const n = lookupNamed(level, table, max);
    if (n === undefined) r.problems.push(`${mapName}: "${level}" is neither a number 0-${max} nor one of: ${Object.keys(table).join(', ')}.`);
    else rules.push({ field: field!, value: value === '*' ? '*' : value.toLowerCase(), level: n });
  }
  return rules;
}

/** FIELD_PRESET, or undefined (unset, or a problem noted). */
export function readFieldPreset(r: SettingsReader, name = 'FIELD_PRESET'): FieldPreset | undefined {
  const value = r.text(name)?.toLowerCase();
  if (value === undefined || value === 'none') return undefined;
  const preset = fieldPreset(value);
  if (!preset) r.problems.push(`${name}="${value}" is not one of: ${Object.keys(FIELD_PRESETS).join(', ')}, none.`);
  return preset;
}

/** SYSLOG_SEVERITY_MAP's rules, then a preset's: SYSLOG_SEVERITY_PRESET (severity only), else FIELD_PRESET's. */
function severityRules(r: SettingsReader, fromFieldPreset: FieldPreset | undefined): LevelRule[] {
  const rules = mappedRules(r, 'SYSLOG_SEVERITY_FIELD', 'SYSLOG_SEVERITY_MAP', SEVERITIES, 7);
  const preset = r.text('SYSLOG_SEVERITY_PRESET') === undefined ? fromFieldPreset : readFieldPreset(r, 'SYSLOG_SEVERITY_PRESET');
  // Explicit mappings come first, so they can override part of a preset.
  return [...rules, ...(preset?.severity ?? [])];
}

function fieldPolicy(r: SettingsReader): FieldPolicy {
  const include = r.list('SYSLOG_INCLUDE_FIELDS');
  const rename = new Map(r.pairs('SYSLOG_FIELD_MAP'));
  return { include: include.length > 0 ? include.map(globToRegExp) : undefined, exclude: r.list('SYSLOG_EXCLUDE_FIELDS').map(globToRegExp), rename };
}

/** The CEF/LEEF header: each part from its setting, else the field preset's, else the generic one. */
function eventHeader(r: SettingsReader, preset: FieldPreset | undefined): EventHeaderSettings {
  const raw = r.env.SYSLOG_LEEF_DELIMITER;
  const leefDelimiter = raw ? raw.replace(/^(\\t|x09|0x09|tab)$/i, '\t') : '\t';
  if ([...leefDelimiter].length !== 1 || /[=|]/.test(leefDelimiter)) {
    r.problems.push(`SYSLOG_LEEF_DELIMITER must be one character other than "=" and "|" (default: tab; "x09" also means tab).`);
  }
  return {
    vendor: r.text('SYSLOG_EVENT_VENDOR') ?? preset?.header.vendor ?? 'Alibaba Cloud',
    product: r.text('SYSLOG_EVENT_PRODUCT') ?? preset?.header.product ?? 'Log Service',
    version: r.text('SYSLOG_EVENT_VERSION') ?? preset?.header.version ?? '1.0',
    idField: r.text('SYSLOG_EVENT_ID_FIELD') ?? preset?.header.idField,
    nameField: r.text('SYSLOG_EVENT_NAME_FIELD') ?? preset?.header.nameField,
    leefDelimiter,
  };
}

export function readFormat(r: SettingsReader): FormatSettings {
  const format = r.oneOf<SyslogFormat>('SYSLOG_FORMAT', ['rfc5424', 'rfc3164'], 'rfc5424');
  const facility = r.named('SYSLOG_FACILITY', FACILITIES, FACILITIES.user!, 23);
  const severity = r.named('SYSLOG_SEVERITY', SEVERITIES, SEVERITIES.info!, 7);
  const preset = readFieldPreset(r);
  const severityRuleList = severityRules(r, preset);
  const facilityRules = mappedRules(r, 'SYSLOG_FACILITY_FIELD', 'SYSLOG_FACILITY_MAP', FACILITIES, 23);
  const hostname = r.headerToken('SYSLOG_HOSTNAME', 255);
  const appName = r.headerToken('SYSLOG_APP_NAME', format === 'rfc5424' ? 48 : 32);
  const procId = r.headerToken('SYSLOG_PROCID', 128) ?? '-';
  const msgId = r.headerToken('SYSLOG_MSGID', 32) ?? '-';
  const structured = r.flag('SYSLOG_STRUCTURED_DATA', false);
  const sdId = r.text('SYSLOG_SD_ID') ?? 'sls@32473';
  if (!/^[^\s=\]"]{1,32}$/.test(sdId) || !/^[\x21-\x7e]+$/.test(sdId) || (!sdId.includes('@') && sdId !== 'origin' && sdId !== 'meta')) {
    r.problems.push(`SYSLOG_SD_ID="${sdId}" must be name@<private enterprise number> (RFC 5424 6.3.2), at most 32 printable characters, e.g. sls@32473.`);
  }
  const bom = r.flag('SYSLOG_BOM', false);
  if (format === 'rfc3164' && (structured || bom)) {
    r.problems.push('SYSLOG_STRUCTURED_DATA and SYSLOG_BOM are RFC 5424 features: set SYSLOG_FORMAT=rfc5424 or turn them off.');
  }
  const timeZone = r.text('SYSLOG_TIMEZONE') ?? 'UTC';
  try {
    checkTimeZone(timeZone);
  } catch {
    r.problems.push(`SYSLOG_TIMEZONE="${timeZone}" is not an IANA time zone (e.g. UTC, Asia/Shanghai, Europe/Berlin).`);
  }
  const messageFormat = r.oneOf<MessageFormat>('SYSLOG_MESSAGE_FORMAT', ['kv', 'json', 'cef', 'leef', 'none'], 'kv');
  if (messageFormat === 'none' && !structured) {
    r.problems.push('SYSLOG_MESSAGE_FORMAT=none leaves the message empty: it needs SYSLOG_STRUCTURED_DATA=on to carry the fields.');
  }
  // Not trimmed: " " is a valid separator. Empty (an unset `${env()}` in s.yaml) means the default.
  const kvSeparator = r.env.SYSLOG_KV_SEPARATOR || '||';
  const kvQuote = r.oneOf<KvQuote>('SYSLOG_KV_QUOTE', ['escape', 'none', 'auto', 'always'], 'escape');
  if (/[=\\A-Za-z0-9]/.test(kvSeparator)) r.problems.push('SYSLOG_KV_SEPARATOR must not contain "=", "\\", letters or digits (they mark a pair, an escape and escaped characters); the default is ||.');
  const event = eventHeader(r, preset);
  const jsonSchema = r.oneOf<'ecs' | 'none'>('JSON_SCHEMA', ['ecs', 'none'], 'none') === 'ecs' ? ('ecs' as const) : undefined;
  if (jsonSchema && messageFormat !== 'json') r.problems.push('JSON_SCHEMA=ecs shapes a JSON body: it needs SYSLOG_MESSAGE_FORMAT=json.');
  return {
    format, facility, severity, severityRules: severityRuleList, facilityRules, hostname, appName, procId, msgId,
    structuredDataId: structured ? sdId : undefined, bom, timeZone, messageFormat, kvSeparator, kvQuote,
    fields: fieldPolicy(r), event, recordId: r.flag('SYSLOG_RECORD_ID', false), preset, jsonSchema,
  };
}

/** The format settings as safe to print (patterns as text). */
export function describeFormat(f: FormatSettings): Record<string, unknown> {
  const { fields, preset, ...rest } = f;
  return { ...rest, preset: preset?.name, fields: { include: fields.include?.map(String), exclude: fields.exclude.map(String), rename: Object.fromEntries(fields.rename) } };
}
