/**
 * A JSON body in the Elastic Common Schema (JSON_SCHEMA=ecs): nested objects, ECS's types, and
 * every field without an ECS name kept under its own name in the log type's namespace
 * (`alibaba_cloud.waf.*`), as Elastic's own integrations do (`aws.cloudtrail.*`). A value that
 * does not fit its ECS type (WAF writes `-` for an unknown client IP) keeps its SLS name, so it
 * lands in the namespace too: Elasticsearch never rejects the document and nothing is dropped.
 */
import type { Field } from '../decode/log-group';

export interface EcsPlan {
  /** Where fields without an ECS name go, under their own names (ECS: custom fields in a namespace of their own). */
  namespace: string[];
  /** Set on every record, before its fields: `event.kind`, `cloud.provider`... */
  constants: Array<[string, unknown]>;
}

/** The ECS release these names and types are checked against (test/fixtures/ecs/). */
export const ECS_VERSION = '9.4.0';

export type EcsType = 'ip' | 'long' | 'keyword' | 'wildcard' | 'match_only_text';

/** Every ECS field a preset writes, with its type in ECS_VERSION. */
export const ECS_TYPES: Readonly<Record<string, EcsType>> = {
  'source.ip': 'ip', 'source.port': 'long', 'client.ip': 'ip', 'client.port': 'long',
  'destination.ip': 'ip', 'destination.port': 'long',
  'url.domain': 'keyword', 'url.path': 'wildcard', 'url.query': 'keyword', 'url.original': 'wildcard',
  'http.request.method': 'keyword', 'http.request.referrer': 'keyword', 'http.request.id': 'keyword', 'http.request.bytes': 'long',
  'http.response.status_code': 'long', 'http.response.body.bytes': 'long',
  'user_agent.original': 'keyword', 'event.action': 'keyword', 'event.id': 'keyword',
  'rule.id': 'keyword', 'rule.name': 'keyword', 'rule.category': 'keyword', 'rule.ruleset': 'keyword',
  'tls.cipher': 'keyword', 'cloud.region': 'keyword', 'cloud.account.id': 'keyword',
  'user.name': 'keyword', 'user.id': 'keyword', 'service.name': 'keyword', 'error.code': 'keyword', 'error.message': 'match_only_text',
  'network.bytes': 'long', 'network.packets': 'long', 'event.outcome': 'keyword',
};

/** The value as its ECS type wants it (a value that does not fit kept its SLS name: format/fields.ts). */
const typed = (value: string, type: EcsType): string | number => (type === 'long' ? Number(value) : value);

type Doc = Record<string, unknown>;

/** Sets a dotted path; false if an earlier value is in the way. */
function setPath(doc: Doc, path: string, value: unknown): boolean {
  const parts = path.split('.');
  let node = doc;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === undefined) node = node[part] = {} as Doc;
    else if (typeof next === 'object' && next !== null && !Array.isArray(next)) node = next as Doc;
    else return false;
  }
  const last = parts[parts.length - 1]!;
  if (last in node) return false;
  node[last] = value;
  return true;
}

export function ecsBody(fields: Field[], timeMs: number, plan: EcsPlan): string {
  const doc: Doc = { '@timestamp': new Date(timeMs).toISOString(), ecs: { version: ECS_VERSION } };
  for (const [path, value] of plan.constants) setPath(doc, path, value);
  // No prototype: a record's field named __proto__ or toString is a field like any other.
  const own: Doc = Object.create(null) as Doc;
  for (const [name, value] of fields) {
    const type = ECS_TYPES[name];
    if (type !== undefined && setPath(doc, name, typed(value, type))) continue;
    // Its own name, numbered on a repeat (as the JSON body numbers them).
    let key = name;
    for (let n = 2; key in own; n++) key = `${name}_${n}`;
    own[key] = value;
  }
  if (Object.keys(own).length > 0) setPath(doc, plan.namespace.join('.'), own);
  return JSON.stringify(doc);
}
