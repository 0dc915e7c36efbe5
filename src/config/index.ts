/**
 * Settings, read once from environment variables and validated together so a user sees every
 * problem in one error instead of fixing them one invocation at a time.
 */
import { ConfigError } from '../errors';
import type { KvQuote } from '../format/body';
import type { EventHeaderSettings } from '../format/event-formats';
import { globToRegExp, type FieldPolicy } from '../format/fields';
import { checkTimeZone } from '../format/header';
import { SEVERITY_PRESETS, type LevelRule } from '../format/levels';
import { lookupNamed, SettingsReader, type Env } from './reader';
import { readHec, type HecSettings } from './hec';
import { readTls, type TlsSettings } from './tls';
import type { SplSource } from '../sls/client';
import { readSource, type SourcePolicy } from './source';

export type { Env } from './reader';
export type { TlsSettings } from './tls';
export type { HecSettings } from './hec';

export type Protocol = 'udp' | 'tcp' | 'tls' | 'relp';
export type SyslogFormat = 'rfc5424' | 'rfc3164';
export type Framing = 'octet-counting' | 'newline';
export type MessageFormat = 'kv' | 'json' | 'cef' | 'leef' | 'none';
export type ConnectionMode = 'reuse' | 'per-invocation';
/** How a TCP/TLS receiver proves it read what was sent: by answering our orderly close, or not at all. */
export type DeliveryProof = 'close' | 'none';

export type Output = 'syslog' | 'splunk-hec';

export interface ForwarderConfig {
  /** Where records go: a syslog receiver (SYSLOG_*), or Splunk's HTTP Event Collector (SPLUNK_HEC_*). */
  output: Output;
  /** Set when output is splunk-hec. */
  hec: HecSettings | undefined;
  host: string;
  port: number;
  protocol: Protocol;
  tls: TlsSettings;
  format: SyslogFormat;
  framing: Framing;
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
  /** Largest syslog message (without framing) in bytes; longer ones are cut and marked. */
  maxMessageBytes: number;
  connectTimeoutMs: number;
  /** `reuse`: one connection per FC instance, opened by the initializer; `per-invocation`: closed gracefully after each. */
  connectionMode: ConnectionMode;
  /** A reused connection idle longer than this is replaced (NAT and firewalls drop idle flows silently). */
  maxIdleMs: number;
  /** LogGroups asked for per PullLogs call (SLS allows 1..1000). */
  pullCount: number;
  /** A pulled batch larger than this halves the next pull's count (memory stays bounded). */
  pullBudgetBytes: number;
  /** How long a write may wait for the receiver to read before the connection counts as stalled. */
  writeTimeoutMs: number;
  /** How often a broken SIEM connection is replaced within one invocation before it fails. */
  reconnectAttempts: number;
  /** Longest wait for one SLS answer. */
  slsTimeoutMs: number;
  /** TCP/TLS: `close` = a commit counts only once the receiver answered our close (FIN/close_notify). */
  deliveryProof: DeliveryProof;
  /** Longest wait for that answer (or for RELP acknowledgements) before the segment counts as not delivered. */
  proofTimeoutMs: number;
  /** A commit point (proof, then a new connection) after this many message bytes ... */
  commitBytes: number;
  /** ... or this long after the segment's first byte, whichever comes first. */
  commitMs: number;
  /** FC: keep progress in SLS (a consumer group named after the trigger job) so a retry resumes. */
  resume: boolean;
  /** A saved resume point older than this is ignored (a deliberate replay must not be skipped). */
  resumeMaxAgeMs: number;
  /** RELP over TLS (the SYSLOG_TLS_* settings apply). */
  relpTls: boolean;
  /** SPL on the way (SLS_QUERY or SLS_CONSUME_PROCESSOR): PullLogs answers what it makes of the data. */
  spl: SplSource | undefined;
  /**
   * What a trigger event may name, and whether Alibaba's `http://*.log.aliyuncs.com` endpoints
   * are upgraded to HTTPS (config/source.ts).
   */
  source: SourcePolicy;
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

/** RFC 5426: every receiver SHOULD take 2048-octet datagrams; larger ones risk loss and fragmentation. */
export const UDP_DEFAULT_MESSAGE_BYTES = 2048;
/** Largest UDP payload in one IPv4 datagram (65535 - 20 IP - 8 UDP), rounded down. */
export const UDP_MAX_MESSAGE_BYTES = 65000;
/**
 * TCP/TLS default: 128 KiB. Above ~200 000 bytes rsyslog's imtcp rejects an octet-counted frame
 * ("frame too large, change to octet stuffing") and mangles the messages that follow (measured
 * with rsyslog 8.2302); syslog-ng's default log-msg-size is 64 KiB. Raise it only for receivers known to take more.
 */
export const STREAM_MAX_MESSAGE_BYTES = 128 * 1024;

/**
 * Commit-point defaults (docs/benchmarks.md, "Commit points"): a proof and a fresh connection
 * every 16 MiB or 10 s. A fault then re-sends at most about one segment (~30k WAF records), and
 * the cost stays within a few percent of throughput on loopback and with latency.
 */
export const DEFAULT_COMMIT_BYTES = 16 * 1024 * 1024;
export const DEFAULT_COMMIT_SECONDS = 10;

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

function severityRules(r: SettingsReader): LevelRule[] {
  const rules = mappedRules(r, 'SYSLOG_SEVERITY_FIELD', 'SYSLOG_SEVERITY_MAP', SEVERITIES, 7);
  const preset = r.text('SYSLOG_SEVERITY_PRESET')?.toLowerCase();
  if (preset === undefined) return rules;
  const found = SEVERITY_PRESETS[preset];
  if (!found) r.problems.push(`SYSLOG_SEVERITY_PRESET="${preset}" is not one of: ${Object.keys(SEVERITY_PRESETS).join(', ')}.`);
  // Explicit mappings come first, so they can override part of a preset.
  return [...rules, ...(found ?? [])];
}

function fieldPolicy(r: SettingsReader): FieldPolicy {
  const include = r.list('SYSLOG_INCLUDE_FIELDS');
  const rename = new Map(r.pairs('SYSLOG_FIELD_MAP'));
  return { include: include.length > 0 ? include.map(globToRegExp) : undefined, exclude: r.list('SYSLOG_EXCLUDE_FIELDS').map(globToRegExp), rename };
}

export function loadConfig(env: Env = process.env): ForwarderConfig {
  const r = new SettingsReader(env);
  const output = r.oneOf<Output>('OUTPUT', ['syslog', 'splunk-hec'], 'syslog');
  const hec = output === 'splunk-hec' ? readHec(r) : undefined;
  const host = r.text('SYSLOG_HOST');
  if (host === undefined && output === 'syslog') {
    r.problems.push('SYSLOG_HOST is not set: give the SIEM/syslog receiver host name or IP, e.g. SYSLOG_HOST=siem.example.com.');
  }
  const protocol = r.oneOf<Protocol>('SYSLOG_PROTOCOL', ['udp', 'tcp', 'tls', 'relp'], 'tcp');
  const port = r.integer('SYSLOG_PORT', protocol === 'tls' ? 6514 : protocol === 'relp' ? 2514 : 514, 1, 65535);
  const relpTls = protocol === 'relp' && r.flag('SYSLOG_RELP_TLS', false);
  const tls = readTls(r, relpTls ? 'tls' : protocol);
  const format = r.oneOf<SyslogFormat>('SYSLOG_FORMAT', ['rfc5424', 'rfc3164'], 'rfc5424');
  let framing = r.oneOf<Framing>('SYSLOG_FRAMING', ['octet-counting', 'newline'], 'octet-counting');
  if (protocol === 'relp') {
    // RELP carries each message with its length: the kernel's octet-counted frames are re-wrapped.
    if (framing === 'newline') r.problems.push('SYSLOG_FRAMING=newline does not apply to RELP (every RELP frame carries its length): remove it.');
    framing = 'octet-counting';
  }
  const facility = r.named('SYSLOG_FACILITY', FACILITIES, FACILITIES.user!, 23);
  const severity = r.named('SYSLOG_SEVERITY', SEVERITIES, SEVERITIES.info!, 7);
  const severityRuleList = severityRules(r);
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
  const kvSeparator = env.SYSLOG_KV_SEPARATOR || '||';
  const kvQuote = r.oneOf<KvQuote>('SYSLOG_KV_QUOTE', ['escape', 'none', 'auto', 'always'], 'escape');
  if (/[=\\A-Za-z0-9]/.test(kvSeparator)) r.problems.push('SYSLOG_KV_SEPARATOR must not contain "=", "\\", letters or digits (they mark a pair, an escape and escaped characters); the default is ||.');
  const leefDelimiter = env.SYSLOG_LEEF_DELIMITER ? env.SYSLOG_LEEF_DELIMITER.replace(/^(\\t|x09|0x09|tab)$/i, '\t') : '\t';
  if ([...leefDelimiter].length !== 1 || /[=|]/.test(leefDelimiter)) {
    r.problems.push(`SYSLOG_LEEF_DELIMITER must be one character other than "=" and "|" (default: tab; "x09" also means tab).`);
  }
  const event: EventHeaderSettings = {
    vendor: r.text('SYSLOG_EVENT_VENDOR') ?? 'Alibaba Cloud',
    product: r.text('SYSLOG_EVENT_PRODUCT') ?? 'Log Service',
    version: r.text('SYSLOG_EVENT_VERSION') ?? '1.0',
    idField: r.text('SYSLOG_EVENT_ID_FIELD'),
    nameField: r.text('SYSLOG_EVENT_NAME_FIELD'),
    leefDelimiter,
  };
  const fields = fieldPolicy(r);
  const recordId = r.flag('SYSLOG_RECORD_ID', false);
  const maxMessageBytes = r.integer(
    'SYSLOG_MAX_MESSAGE_BYTES',
    protocol === 'udp' ? UDP_DEFAULT_MESSAGE_BYTES : STREAM_MAX_MESSAGE_BYTES,
    480,
    protocol === 'udp' ? UDP_MAX_MESSAGE_BYTES : 64 * 1024 * 1024,
  );
  const connectTimeoutMs = r.integer('SYSLOG_CONNECT_TIMEOUT_MS', 10_000, 100, 600_000);
  const connectionMode = r.oneOf<ConnectionMode>('SYSLOG_CONNECTION', ['reuse', 'per-invocation'], 'reuse');
  const maxIdleMs = r.integer('SYSLOG_MAX_IDLE_SECONDS', 120, 1, 3600) * 1000;
  const pullCount = r.integer('SLS_PULL_COUNT', 100, 1, 1000);
  const pullBudgetBytes = r.integer('SLS_PULL_BUDGET_BYTES', 8 * 1024 * 1024, 64 * 1024, 512 * 1024 * 1024);
  const writeTimeoutMs = r.integer('SYSLOG_WRITE_TIMEOUT_MS', 30_000, 100, 600_000);
  const reconnectAttempts = r.integer('SYSLOG_RECONNECT_ATTEMPTS', 5, 0, 100);
  const slsTimeoutMs = r.integer('SLS_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000);
  const deliveryProof = r.oneOf<DeliveryProof>('SYSLOG_DELIVERY_PROOF', ['close', 'none'], 'close');
  const proofTimeoutMs = r.integer('SYSLOG_PROOF_TIMEOUT_MS', 10_000, 100, 600_000);
  const commitBytes = r.integer('SYSLOG_COMMIT_BYTES', DEFAULT_COMMIT_BYTES, 64 * 1024, 1024 * 1024 * 1024);
  const commitMs = r.integer('SYSLOG_COMMIT_SECONDS', DEFAULT_COMMIT_SECONDS, 1, 3600) * 1000;
  const resume = r.flag('SLS_RESUME', true);
  const resumeMaxAgeMs = r.integer('SLS_RESUME_MAX_AGE_SECONDS', 3600, 60, 7 * 86400) * 1000;
  const splQuery = r.text('SLS_QUERY');
  const splProcessor = r.text('SLS_CONSUME_PROCESSOR');
  if (splQuery !== undefined && splProcessor !== undefined) r.problems.push('SLS_QUERY and SLS_CONSUME_PROCESSOR are two ways to run SPL on the way: set one of them.');
  const source = readSource(r);
  const spl: SplSource | undefined = splQuery !== undefined ? { query: splQuery } : splProcessor !== undefined ? { processor: splProcessor } : undefined;

  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return {
    output, hec, host: host ?? '', port, protocol, tls, format, framing, facility, severity, severityRules: severityRuleList, facilityRules,
    hostname, appName, procId, msgId, structuredDataId: structured ? sdId : undefined, bom, timeZone,
    messageFormat, kvSeparator, kvQuote, fields, event, recordId, maxMessageBytes, connectTimeoutMs,
    connectionMode, maxIdleMs, pullCount, pullBudgetBytes, writeTimeoutMs, reconnectAttempts, slsTimeoutMs,
    deliveryProof, proofTimeoutMs, commitBytes, commitMs, resume, resumeMaxAgeMs, relpTls, spl, source,
  };
}

/** The settings as safe to print: no PEM bodies, no key passphrase (and the config never holds credentials). */
export function describeConfig(c: ForwarderConfig): Record<string, unknown> {
  const { tls, fields, hec, ...rest } = c;
  return {
    ...rest,
    hec: hec ? { ...hec, url: `${hec.url.origin}${hec.url.pathname}`, token: '[redacted]', ca: hec.ca ? 'set' : 'none' } : undefined,
    fields: { include: fields.include?.map(String), exclude: fields.exclude.map(String), rename: Object.fromEntries(fields.rename) },
    tls: c.protocol === 'tls' || c.relpTls
      ? {
          ca: tls.caSource, clientCertificate: tls.cert ? 'set' : 'none', keyPassphrase: tls.passphrase ? '[redacted]' : 'none',
          servername: tls.servername, minVersion: tls.minVersion, verifyCertificate: !tls.insecure,
        }
      : undefined,
  };
}
