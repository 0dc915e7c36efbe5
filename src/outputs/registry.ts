/**
 * Every output the forwarder has, by the name OUTPUT / OUTPUTS use. Adding one: a folder under
 * src/outputs/ exporting an OutputDefinition, and one line here (docs/design.md, "How to add an output").
 */
import type { SecretSetting } from '../config/secrets';
import type { OutputDefinition } from './output';
import { splunkHecOutput } from './splunk-hec';
import { syslogOutput } from './syslog';

export const OUTPUT_DEFINITIONS: readonly OutputDefinition[] = [syslogOutput, splunkHecOutput];

export const OUTPUT_NAMES = OUTPUT_DEFINITIONS.map((d) => d.name);

/** OUTPUT's default: the forwarder's first job. */
export const DEFAULT_OUTPUT = syslogOutput.name;

/**
 * Names an output of a fan-out cannot have: its `<NAME>_` prefix would shadow a family of settings
 * (`SYSLOG_` + `HOST`...). Each output's settings family comes from its name's first part.
 */
export const RESERVED_OUTPUT_NAMES = [...new Set([...OUTPUT_DEFINITIONS.map((d) => d.name.split('-')[0]!), 'sls', 'kms', 'output', 'outputs', 'fc', 'alibaba'])];

/** The output a SIEM profile picks, if one speaks to that SIEM natively. */
export function outputForProfile(profile: string): OutputDefinition | undefined {
  return OUTPUT_DEFINITIONS.find((d) => d.siemProfile === profile);
}

export function outputDefinition(name: string): OutputDefinition | undefined {
  return OUTPUT_DEFINITIONS.find((d) => d.name === name);
}

/** The secret-bearing settings of every output (the deploy files keep the confidential ones out). */
export const SECRET_SETTINGS: readonly SecretSetting[] = OUTPUT_DEFINITIONS.flatMap((d) => d.secrets);
