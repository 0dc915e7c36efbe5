/**
 * The settings of one output of a fan-out (OUTPUTS=siem:syslog,lake:splunk-hec): its own
 * `<NAME>_` prefixed settings, over the unprefixed ones as the default of every output. Its
 * readers see the usual names, so each output's settings are read by the same code either way.
 */
import { FROM_KMS, type ResolvedEnv } from './secrets';
import type { Env } from './reader';

/** `env` as output `prefix` (e.g. `SIEM_`) sees it: `SIEM_SYSLOG_HOST` read as `SYSLOG_HOST`. */
export function scopedEnv(env: Env, prefix: string): ResolvedEnv {
  const out: ResolvedEnv = { ...env };
  for (const [name, value] of Object.entries(env)) {
    // A blank prefixed setting (an unset `${env()}` in s.yaml) leaves the shared default in place.
    if (name.startsWith(prefix) && name.length > prefix.length && value !== undefined && value.trim() !== '') out[name.slice(prefix.length)] = value;
  }
  const fetched = (env as ResolvedEnv)[FROM_KMS];
  if (fetched) {
    const scoped = new Map(fetched);
    for (const [name, secretName] of fetched) if (name.startsWith(prefix)) scoped.set(name.slice(prefix.length), secretName);
    out[FROM_KMS] = scoped;
  }
  return out;
}
