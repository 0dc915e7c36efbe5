/**
 * SIEM_PROFILE: one setting for the defaults a SIEM's own documentation asks for (body format,
 * header, facility, framing, size limit; the field names then follow from the body: CEF keys,
 * LEEF keys, ECS, Splunk CIM). A profile only fills settings left unset, so any of them can still
 * be changed. The README's "SIEM profiles" cites the documentation behind each choice.
 */
import type { Env } from '../config/reader';
import { outputForProfile } from '../outputs/registry';

export interface SiemProfile {
  readonly describes: string;
  /** Setting -> value, used where the setting is unset. */
  readonly defaults: (env: Env) => Readonly<Record<string, string>>;
}

/**
 * RFC 3164 with no TAG, `<PRI>Mmm dd hh:mm:ss host CEF:0|...`, the form the CEF and LEEF vendors
 * document, under a stable HOSTNAME per log type (the SIEM's log source; RFC 3164 has no `-`).
 */
function classic3164(env: Env): Record<string, string> {
  return {
    SYSLOG_FORMAT: 'rfc3164', SYSLOG_APP_NAME: '-', SYSLOG_FRAMING: 'newline',
    SYSLOG_HOSTNAME: `alicloud-${(env.FIELD_PRESET ?? '').trim().toLowerCase() || 'sls'}`,
  };
}

export const SIEM_PROFILES: Readonly<Record<string, SiemProfile>> = {
  sentinel: {
    describes: 'Microsoft Sentinel, CEF via the Azure Monitor Agent (table CommonSecurityLog)',
    // A facility of its own: a DCR that also collects it as plain syslog would ingest every record twice.
    // 8 KiB: the rsyslog on the AMA forwarder keeps 8 KiB of a message unless its MaxMessageSize is raised.
    defaults: (env) => ({ ...classic3164(env), SYSLOG_MESSAGE_FORMAT: 'cef', SYSLOG_FACILITY: 'local4', SYSLOG_MAX_MESSAGE_BYTES: '8192' }),
  },
  qradar: {
    describes: 'IBM QRadar, LEEF 2.0 (log source type Universal LEEF)',
    // QRadar finds the log source by the header's HOSTNAME: one stable name per log type.
    defaults: (env) => ({ ...classic3164(env), SYSLOG_MESSAGE_FORMAT: 'leef', SYSLOG_MAX_MESSAGE_BYTES: '4096' }),
  },
  arcsight: {
    describes: 'OpenText ArcSight, CEF through a syslog SmartConnector',
    defaults: (env) => ({ ...classic3164(env), SYSLOG_MESSAGE_FORMAT: 'cef' }),
  },
  splunk: {
    describes: 'Splunk, HTTP Event Collector (fields in CIM names, a sourcetype per log type)',
    // The output made for Splunk; with OUTPUTS each output names its type itself.
    defaults: (env): Record<string, string> => (unset(env.OUTPUTS) ? { OUTPUT: outputForProfile('splunk')!.name } : {}),
  },
  elastic: {
    describes: 'Elastic Security, JSON in the Elastic Common Schema over syslog (Custom TCP Logs with the syslog processor)',
    defaults: () => ({ SYSLOG_FORMAT: 'rfc5424', SYSLOG_MESSAGE_FORMAT: 'json', JSON_SCHEMA: 'ecs', SYSLOG_FRAMING: 'newline' }),
  },
};

export const SIEM_PROFILE_NAMES = Object.keys(SIEM_PROFILES);

const unset = (value: string | undefined) => value === undefined || value.trim() === '';

/** `env` with the defaults of its SIEM_PROFILE under it (unchanged without one, or with an unknown one: the reader reports that). */
export function withSiemProfile(env: Env): Env {
  const name = (env.SIEM_PROFILE ?? '').trim().toLowerCase();
  const profile = Object.hasOwn(SIEM_PROFILES, name) ? SIEM_PROFILES[name] : undefined;
  if (!profile) return env;
  const out: Env = { ...env };
  for (const [name, value] of Object.entries(profile.defaults(env))) if (unset(env[name])) out[name] = value;
  return out;
}
