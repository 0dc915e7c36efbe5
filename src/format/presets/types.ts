/**
 * What a field preset is: for one Alibaba Cloud log type, the standard names each SIEM schema
 * gives its fields, plus the event header and severity rules. Presets are data (one file per log
 * type, one table per schema); format/presets/plan.ts turns one into what the engines apply.
 */
import type { LevelRule } from '../levels';

/** A table's key: an SLS field name, or a path into a field holding JSON (`event.userIdentity.userName`). */
export type FieldTable = Readonly<Record<string, string>>;

export interface FieldPreset {
  /** FIELD_PRESET's value. */
  readonly name: string;
  /** One line for errors and the README. */
  readonly describes: string;
  /** Where the log type's fields are documented. */
  readonly fieldReference: string;
  /** The CEF/LEEF header: vendor, product, version, and the fields holding the event class id and name. */
  readonly header: { vendor: string; product: string; version: string; idField: string; nameField: string };
  /** Severity from the record (first match wins); SYSLOG_SEVERITY_MAP rules come before them. */
  readonly severity: readonly LevelRule[];
  /** The record's result: `failure` when this field holds a value, else `success` (log types that have one). */
  readonly failureWhenSet?: string;
  /** Splunk sourcetype (vendor:product, Splunk's naming convention). */
  readonly sourcetype: string;
  /** ArcSight CEF extension dictionary keys (Sentinel: CommonSecurityLog columns). */
  readonly cef: FieldTable;
  /** Labels of the custom keys the CEF table uses (`cs1` -> `cs1Label=<label>`). */
  readonly cefLabels: FieldTable;
  /** QRadar LEEF 2.0 predefined keys. */
  readonly leef: FieldTable;
  /** Elastic Common Schema names (nested in the JSON body); their types are in format/ecs.ts. */
  readonly ecs: FieldTable;
  /** ECS `event.category` and `event.type` of every record of this type (ECS allowed values). */
  readonly ecsEvent: { readonly category: readonly string[]; readonly type: readonly string[] };
  /** Splunk CIM names (the data model in `cimModel`). */
  readonly cim: FieldTable;
  readonly cimModel: string;
}
