/**
 * What a field preset means for one output: the body's schema (CEF, LEEF, ECS for JSON_SCHEMA=ecs,
 * Splunk CIM for HEC), and from its table the renames (merged under SYSLOG_FIELD_MAP, which wins),
 * the constant fields (CEF custom-key labels, CIM's vendor_product) and the fields found by path
 * or rule. Renames and constants run on the kernel; found fields and ECS's nesting on the reference.
 */
import type { Field } from '../../decode/log-group';
import type { EncoderSettings } from '../encoding';
import { ECS_TYPES, type EcsPlan } from '../ecs';
import type { FieldPolicy, ValueKind } from '../fields';
import type { FieldPreset } from './types';

export type Schema = 'cef' | 'leef' | 'ecs' | 'cim';

/** A field the reference engine adds to each record: a value at a path into a JSON field, or the record's result. */
export type FoundField = { name: string; path: string } | { name: string; failureWhenSet: string };

export interface PresetPlan {
  /** The field policy with the preset's renames under the user's. */
  fields: FieldPolicy;
  constants: Field[];
  found: FoundField[];
  ecs: EcsPlan | undefined;
}

/** Where a record's result goes in each schema. */
const OUTCOME: Record<Schema, string> = { cef: 'outcome', leef: 'outcome', ecs: 'event.outcome', cim: 'status' };

function schemaOf(c: EncoderSettings): Schema | undefined {
  if (c.encoding.kind === 'hec-event') return 'cim';
  if (c.messageFormat === 'cef' || c.messageFormat === 'leef') return c.messageFormat;
  return c.messageFormat === 'json' && c.jsonSchema === 'ecs' ? 'ecs' : undefined;
}

function tableOf(preset: FieldPreset, schema: Schema): Readonly<Record<string, string>> {
  return schema === 'cef' ? preset.cef : schema === 'leef' ? preset.leef : schema === 'ecs' ? preset.ecs : preset.cim;
}

/** Names with a dot are paths into a field holding JSON: the value is found, not renamed. */
const isPath = (key: string) => key.includes('.');

function build(c: EncoderSettings): PresetPlan {
  const schema = schemaOf(c);
  const preset = c.preset;
  const plan: PresetPlan = { fields: c.fields, constants: [], found: [], ecs: undefined };
  if (schema === 'ecs') {
    plan.ecs = {
      namespace: ['alibaba_cloud', preset?.name ?? 'sls'],
      constants: [
        ['event.kind', 'event'],
        ...(preset ? ([['event.category', [...preset.ecsEvent.category]], ['event.type', [...preset.ecsEvent.type]], ['event.dataset', `alibaba_cloud.${preset.name}`]] as Array<[string, unknown]>) : []),
        ['event.module', 'alibaba_cloud'],
        ['cloud.provider', 'alibaba_cloud'],
        ...(preset ? ([['observer.vendor', preset.header.vendor], ['observer.product', preset.header.product]] as Array<[string, unknown]>) : []),
      ],
    };
    // ECS names take only values of their type, renamed by SYSLOG_FIELD_MAP alone too.
    plan.fields = { ...c.fields, fits: fitsOf(schema) };
  }
  if (!preset || !schema) return plan;
  const table = tableOf(preset, schema);
  const renames = Object.entries(table).filter(([from]) => !isPath(from));
  plan.found = Object.entries(table).filter(([from]) => isPath(from)).map(([path, name]) => ({ name, path }));
  if (preset.failureWhenSet) plan.found.push({ name: OUTCOME[schema], failureWhenSet: preset.failureWhenSet });
  plan.fields = { ...c.fields, rename: new Map([...renames, ...c.fields.rename]), fits: fitsOf(schema) };
  if (schema === 'cef') {
    const used = new Set(Object.values(table));
    plan.constants = Object.entries(preset.cefLabels).filter(([key]) => used.has(key)).map(([key, label]) => [`${key}Label`, label]);
  }
  if (schema === 'cim') plan.constants = [['vendor_product', `${preset.header.vendor} ${preset.header.product}`]];
  return plan;
}

/** The standard names that take only some values: an address key holds an address, an ECS field its type. */
function fitsOf(schema: Schema): ReadonlyMap<string, ValueKind> | undefined {
  if (schema === 'cef' || schema === 'leef') return new Map([['src', 'ip'], ['dst', 'ip']]);
  if (schema === 'ecs') return new Map(Object.entries(ECS_TYPES).map(([name, type]) => [name, type === 'ip' ? 'ip' : type === 'long' ? 'long' : 'text']));
  return undefined;
}

const plans = new WeakMap<EncoderSettings, PresetPlan>();

/** The plan of an output's settings (made once per settings object). */
export function presetPlan(c: EncoderSettings): PresetPlan {
  let plan = plans.get(c);
  if (!plan) plans.set(c, (plan = build(c)));
  return plan;
}
