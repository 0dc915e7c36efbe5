/**
 * The forwarder's settings, read once from environment variables and validated together so a user
 * sees every problem in one error instead of fixing them one invocation at a time. Each section is
 * read by its own layer (sls/, format/, outputs/, ship/); this file only puts them together, and
 * reads OUTPUTS: one output, or several side by side, each with its own `<NAME>_` prefixed settings.
 */
import { SettingsReader, type Env } from '../config/reader';
import { scopedEnv } from '../config/scope';
import { ConfigError } from '../errors';
import { readFilter } from '../format/filter';
import { describeFormat, readFormat } from '../format/settings';
import { readConnection } from '../outputs/connection';
import type { Output } from '../outputs/output';
import { DEFAULT_OUTPUT, OUTPUT_NAMES, outputDefinition, RESERVED_OUTPUT_NAMES } from '../outputs/registry';
import type { ForwarderConfig, OutputConfig } from '../ship/config';
import { readDelivery, readResume } from '../ship/settings';
import { readSourceSettings } from '../sls/settings';
import { SIEM_PROFILE_NAMES, withSiemProfile } from './profiles';

export type { Env } from '../config/reader';
export type { ForwarderConfig, OutputConfig } from '../ship/config';

const MAX_OUTPUTS = 4;

/** OUTPUTS=siem:syslog,lake:splunk-hec, or the single OUTPUT. */
function outputList(r: SettingsReader): Array<{ name: string; type: string; prefix: string }> {
  const entries = r.list('OUTPUTS');
  if (entries.length === 0) {
    const type = r.oneOf('OUTPUT', OUTPUT_NAMES, DEFAULT_OUTPUT);
    return [{ name: type, type, prefix: '' }];
  }
  if (r.text('OUTPUT') !== undefined) r.problems.push('OUTPUT and OUTPUTS are both set: OUTPUTS names every output with its type (OUTPUTS=siem:syslog,lake:splunk-hec); remove OUTPUT.');
  const example = `e.g. OUTPUTS=siem:syslog,lake:splunk-hec, with SIEM_SYSLOG_HOST and LAKE_SPLUNK_HEC_URL`;
  if (entries.length > MAX_OUTPUTS) r.problems.push(`OUTPUTS names ${entries.length} outputs; at most ${MAX_OUTPUTS} are supported (each costs a full send of every record).`);
  const out: Array<{ name: string; type: string; prefix: string }> = [];
  for (const entry of entries.slice(0, MAX_OUTPUTS)) {
    const [name = '', type = ''] = entry.toLowerCase().split(':').map((s) => s.trim());
    if (!/^[a-z][a-z0-9]{0,15}$/.test(name) || RESERVED_OUTPUT_NAMES.includes(name)) {
      r.problems.push(`OUTPUTS: "${name}" is not an output name: 1-16 letters and digits starting with a letter, not ${RESERVED_OUTPUT_NAMES.join(', ')} (${example}).`);
    } else if (!outputDefinition(type)) {
      r.problems.push(`OUTPUTS: "${entry}" needs a type, one of ${OUTPUT_NAMES.join(', ')}, after the name (${example}).`);
    } else if (out.some((o) => o.name === name)) {
      r.problems.push(`OUTPUTS names "${name}" twice: each output needs its own name.`);
    } else {
      out.push({ name, type, prefix: `${name.toUpperCase()}_` });
    }
  }
  return out;
}

/** One output's settings, read from its own view of the environment; its problems say which output. */
function readOutput(env: Env, r: SettingsReader, o: { name: string; type: string; prefix: string }): OutputConfig | undefined {
  const own = o.prefix === '' ? r : new SettingsReader(withSiemProfile(scopedEnv(env, o.prefix)));
  own.oneOf('SIEM_PROFILE', [...SIEM_PROFILE_NAMES, 'none'], 'none');
  const output = outputDefinition(o.type)!.read(own);
  const config = { name: o.name, prefix: o.prefix, format: readFormat(own), connection: readConnection(own), delivery: readDelivery(own), filter: readFilter(own) };
  if (own !== r) for (const p of own.problems) r.problems.push(`output "${o.name}" (its ${o.prefix}* settings, else the unprefixed ones): ${p}`);
  return output && { ...config, output };
}

/** The settings of output `prefix` (for re-reading one after a KMS re-fetch). */
export function readOutputOnly(env: Env, o: { name: string; type: string; prefix: string }): Output {
  const r = new SettingsReader(withSiemProfile(o.prefix === '' ? env : scopedEnv(env, o.prefix)));
  const output = outputDefinition(o.type)!.read(r);
  if (!output || r.problems.length > 0) throw new ConfigError(r.problems);
  return output;
}

/** Every output named by the settings, with its type and prefix (before reading their settings). */
export function configuredOutputs(env: Env): Array<{ name: string; type: string; prefix: string }> {
  return outputList(new SettingsReader(withSiemProfile(env)));
}

export function loadConfig(env: Env = process.env): ForwarderConfig {
  // A SIEM profile fills what is unset; each output of a fan-out may pick its own (<NAME>_SIEM_PROFILE).
  const r = new SettingsReader(withSiemProfile(env));
  const list = outputList(r);
  const outputs = list.map((o) => readOutput(env, r, o));
  const source = readSourceSettings(r);
  const resume = readResume(r);
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return { source, resume, outputs: outputs as OutputConfig[] };
}

/** The settings as safe to print: no PEM bodies, no key passphrase, no token (and the config never holds credentials). */
export function describeConfig(c: ForwarderConfig): Record<string, unknown> {
  return {
    source: c.source,
    resume: c.resume,
    outputs: c.outputs.map((o) => ({
      name: o.name, ...o.output.describe(), format: describeFormat(o.format), connection: o.connection, delivery: o.delivery, filter: o.filter?.text,
    })),
  };
}
