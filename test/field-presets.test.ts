/**
 * Field presets (FIELD_PRESET) and JSON_SCHEMA=ecs: realistic records of each log type, formatted
 * for each schema, kept as golden samples (test/golden/presets/, rewritten with UPDATE_GOLDEN=1) and
 * read back by readers written from the formats' documentation: CEF (ArcSight's standard), LEEF
 * (QRadar's rules), ECS (its published field definitions), Splunk CIM. The SIEMs' own tables are
 * fixtures with their sources (test/fixtures/).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeGroupViews } from '../src/decode/log-group';
import { createEncoder } from '../src/format/encoder';
import { FIELD_PRESETS } from '../src/format/presets';
import { referenceFormatter } from '../src/format/reference-engine';
import type { Env } from '../src/settings';
import { encodeLogGroup, encodeLogGroupList } from './support/log-group-writer';
import { PRESET_GROUPS, WAF_BLOCK } from './support/preset-records';
import { flatConfig } from './support/settings';
import { readCef, readLeef } from './support/siem-readers';

const GOLDEN = join(__dirname, 'golden', 'presets');
const HEC: Env = { OUTPUT: 'splunk-hec', SPLUNK_HEC_URL: 'https://127.0.0.1:8088', SPLUNK_HEC_TOKEN: 't' };
const SCHEMAS: Record<string, Env> = {
  cef: { SYSLOG_HOST: 'h', SYSLOG_MESSAGE_FORMAT: 'cef' },
  leef: { SYSLOG_HOST: 'h', SYSLOG_MESSAGE_FORMAT: 'leef' },
  ecs: { SYSLOG_HOST: 'h', SYSLOG_MESSAGE_FORMAT: 'json', JSON_SCHEMA: 'ecs' },
  cim: HEC,
};
const source = (preset: string) => ({ project: 'proj', logstore: `${preset}-logstore` });
const bodyOf = (preset: string) => encodeLogGroupList([encodeLogGroup(PRESET_GROUPS[preset]!)]);

/** Each record of the preset's log type as the reference writes it for `env`, one message per line. */
function format(preset: string, env: Env): string[] {
  const config = flatConfig({ FIELD_PRESET: preset, ...env });
  const formatter = referenceFormatter(config, source(preset));
  return decodeGroupViews(bodyOf(preset)).flatMap((g) => g.logs.map((log) => formatter.format(g, log).bytes.toString('utf8')));
}

/** The message's body: after the syslog header (or the HEC event). */
const cefOf = (line: string) => readCef(line);
const leefOf = (line: string) => readLeef(line.slice(line.indexOf('LEEF:')));
const ecsOf = (line: string) => JSON.parse(line.slice(line.indexOf('{'))) as Record<string, any>;
const hecOf = (line: string) => JSON.parse(line) as { sourcetype: string; event: Record<string, string> };

test('golden samples: every preset in every schema is written as recorded in test/golden/presets/', () => {
  let compared = 0;
  for (const preset of Object.keys(FIELD_PRESETS)) {
    for (const [schema, env] of Object.entries(SCHEMAS)) {
      const text = `${format(preset, env).join('\n')}\n`;
      const file = join(GOLDEN, `${preset}.${schema}.txt`);
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, text);
      assert.equal(text, readFileSync(file, 'utf8'), `${preset}.${schema}: differs from its golden sample (UPDATE_GOLDEN=1 rewrites it after a deliberate change)`);
      compared++;
    }
  }
  assert.equal(compared, Object.keys(FIELD_PRESETS).length * 4);
});

test('WAF to CEF: src, requestMethod, requestClientApplication, act and dhost carry the client IP, method, User-Agent, action and host; the header names WAF and the rule', () => {
  const { header, extensions } = cefOf(format('waf', SCHEMAS.cef!)[0]!);
  assert.deepEqual(header.slice(1, 6), ['Alibaba Cloud', 'WAF', '3.0', WAF_BLOCK.final_rule_id, WAF_BLOCK.final_rule_type]);
  assert.equal(extensions.src, WAF_BLOCK.real_client_ip);
  assert.equal(extensions.requestMethod, WAF_BLOCK.request_method);
  assert.equal(extensions.requestClientApplication, WAF_BLOCK.http_user_agent);
  assert.equal(extensions.act, WAF_BLOCK.final_action);
  assert.equal(extensions.dhost, WAF_BLOCK.host);
  assert.equal(extensions.request, WAF_BLOCK.request_uri);
  // What has no standard key keeps a labelled custom key, or its own name: nothing is dropped.
  assert.equal(extensions.cs1, WAF_BLOCK.final_plugin);
  assert.equal(extensions.cs1Label, 'finalPlugin');
  assert.equal(extensions.upstream_addr, WAF_BLOCK.upstream_addr);
  assert.equal(extensions.region, WAF_BLOCK.region);
  const values = Object.values(extensions);
  for (const [name, value] of Object.entries(WAF_BLOCK)) assert.ok(values.includes(value), `${name}=${value} is somewhere in the CEF record`);
  // WAF's "-" (it could not tell the client) is no address: it keeps its own name, src stays empty.
  const unknown = cefOf(format('waf', SCHEMAS.cef!)[2]!).extensions;
  assert.equal(unknown.src, undefined);
  assert.equal(unknown.real_client_ip, '-');
  assert.equal(leefOf(format('waf', SCHEMAS.leef!)[2]!).attributes.real_client_ip, '-');
});

test('WAF to LEEF, ECS and Splunk CIM: the client IP lands in src / source.ip, and the ECS names carry method, User-Agent, action and host', () => {
  const leef = leefOf(format('waf', SCHEMAS.leef!)[0]!);
  assert.deepEqual(leef.header.slice(1, 5), ['Alibaba Cloud', 'WAF', '3.0', WAF_BLOCK.final_rule_id]);
  assert.equal(leef.attributes.src, WAF_BLOCK.real_client_ip);
  assert.equal(leef.attributes.srcPort, WAF_BLOCK.src_port);
  assert.equal(leef.attributes.cat, WAF_BLOCK.final_plugin);
  const ecs = ecsOf(format('waf', SCHEMAS.ecs!)[0]!);
  assert.equal(ecs.source.ip, WAF_BLOCK.real_client_ip);
  assert.equal(ecs.http.request.method, WAF_BLOCK.request_method);
  assert.equal(ecs.user_agent.original, WAF_BLOCK.http_user_agent);
  assert.equal(ecs.event.action, WAF_BLOCK.final_action);
  assert.equal(ecs.url.domain, WAF_BLOCK.host);
  assert.equal(ecs.http.response.status_code, Number(WAF_BLOCK.status));
  assert.equal(ecs.cloud.provider, 'alibaba_cloud');
  assert.equal(ecs.alibaba_cloud.waf.upstream_addr, WAF_BLOCK.upstream_addr, 'a field without an ECS name stays, under the namespace');
  // "-" (WAF could not tell the client) is no IP: it stays under its own name, never in source.ip.
  const unknown = ecsOf(format('waf', SCHEMAS.ecs!)[2]!);
  assert.equal(unknown.source, undefined);
  assert.equal(unknown.alibaba_cloud.waf.real_client_ip, '-');
  const hec = hecOf(format('waf', HEC)[0]!);
  assert.equal(hec.sourcetype, 'alicloud:waf');
  assert.equal(hec.event.src, WAF_BLOCK.real_client_ip);
  assert.equal(hec.event.http_method, WAF_BLOCK.request_method);
  assert.equal(hec.event.action, WAF_BLOCK.final_action);
  assert.equal(hec.event.dest, WAF_BLOCK.host);
  assert.equal(hec.event.vendor_product, 'Alibaba Cloud WAF');
});

test('ActionTrail: user, source IP, event name and result in CEF, LEEF, ECS and CIM, found inside the JSON of `event`', () => {
  const events = PRESET_GROUPS.actiontrail!.logs.map((l) => JSON.parse(l.contents[0]![1]) as { eventName: string; sourceIpAddress: string; errorCode: string | null; userIdentity: { userName: string } });
  const cef = format('actiontrail', SCHEMAS.cef!).map(cefOf);
  const leef = format('actiontrail', SCHEMAS.leef!).map(leefOf);
  const ecs = format('actiontrail', SCHEMAS.ecs!).map(ecsOf);
  const cim = format('actiontrail', HEC).map(hecOf);
  events.forEach((e, i) => {
    const result = e.errorCode ? 'failure' : 'success';
    assert.deepEqual(cef[i]!.header.slice(1, 6), ['Alibaba Cloud', 'ActionTrail', '1', e.eventName, e.eventName]);
    assert.deepEqual([cef[i]!.extensions.suser, cef[i]!.extensions.src, cef[i]!.extensions.act, cef[i]!.extensions.outcome], [e.userIdentity.userName, e.sourceIpAddress, e.eventName, result]);
    assert.deepEqual([leef[i]!.attributes.usrName, leef[i]!.attributes.src, leef[i]!.header[4], leef[i]!.attributes.outcome], [e.userIdentity.userName, e.sourceIpAddress, e.eventName, result]);
    assert.deepEqual([ecs[i]!.user.name, ecs[i]!.source.ip, ecs[i]!.event.action, ecs[i]!.event.outcome], [e.userIdentity.userName, e.sourceIpAddress, e.eventName, result]);
    assert.deepEqual([cim[i]!.event.user, cim[i]!.event.src, cim[i]!.event.command, cim[i]!.event.status], [e.userIdentity.userName, e.sourceIpAddress, e.eventName, result]);
    assert.equal(cim[i]!.sourcetype, 'alicloud:actiontrail');
    // The event itself stays whole.
    assert.equal(JSON.parse(cef[i]!.extensions.event!).eventId, (e as unknown as { eventId: string }).eventId);
  });
});

test('SYSLOG_FIELD_MAP still renames any one field over the preset; SYSLOG_EVENT_* still set the header', () => {
  const { header, extensions } = cefOf(format('waf', { ...SCHEMAS.cef!, SYSLOG_FIELD_MAP: 'real_client_ip:clientIp,region:deviceExternalId', SYSLOG_EVENT_PRODUCT: 'WAF Shop' })[0]!);
  assert.equal(extensions.clientIp, WAF_BLOCK.real_client_ip);
  assert.equal(extensions.src, undefined);
  assert.equal(extensions.deviceExternalId, WAF_BLOCK.region);
  assert.equal(extensions.requestMethod, WAF_BLOCK.request_method, 'the rest of the preset holds');
  assert.equal(header[2], 'WAF Shop');
});

test('the kernel writes the presets that only rename (WAF, Cloud Firewall, ALB: CEF, LEEF, HEC) byte for byte as the reference; path lookups and ECS say they run on the reference', () => {
  for (const preset of Object.keys(FIELD_PRESETS)) {
    for (const [schema, env] of Object.entries(SCHEMAS)) {
      const config = flatConfig({ FIELD_PRESET: preset, SYSLOG_FRAMING: 'newline', ...env });
      const encoder = createEncoder(config, source(preset));
      const byReference = preset === 'actiontrail' || schema === 'ecs';
      if (byReference) {
        assert.match(encoder.engine, schema === 'ecs' ? /^reference \(JSON_SCHEMA=ecs/ : /^reference \(FIELD_PRESET=actiontrail/, `${preset}.${schema}`);
        continue;
      }
      assert.equal(encoder.engine, 'kernel', `${preset}.${schema}`);
      const parts: Buffer[] = [];
      for (const chunk of encoder.encode(bodyOf(preset), () => undefined)) {
        if (chunk.kind === 'frames') parts.push(Buffer.from(chunk.bytes));
        else if (chunk.kind === 'message') parts.push(chunk.bytes, Buffer.from(schema === 'cim' ? '' : '\n'));
      }
      const wire = Buffer.concat(parts).toString('utf8');
      const want = format(preset, { SYSLOG_FRAMING: 'newline', ...env });
      assert.equal(wire, schema === 'cim' ? want.join('') : `${want.join('\n')}\n`, `${preset}.${schema}`);
    }
  }
});

test('every ECS field a preset writes exists in ECS 9.4.0 with the type of its value; event.* values are allowed ones', () => {
  const ecs = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'ecs', 'ecs_flat.json'), 'utf8')) as { ecsVersion: string; fields: Record<string, { type: string; allowed_values?: string[]; normalize?: string[] }> };
  const leaves = (node: Record<string, unknown>, path: string[] = []): Array<[string, unknown]> =>
    Object.entries(node).flatMap(([k, v]) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? leaves(v as Record<string, unknown>, [...path, k]) : [[[...path, k].join('.'), v] as [string, unknown]]));
  let checked = 0;
  for (const preset of Object.keys(FIELD_PRESETS)) {
    for (const line of format(preset, SCHEMAS.ecs!)) {
      const doc = ecsOf(line);
      assert.ok(doc.alibaba_cloud?.[preset], `${preset}: its own fields under alibaba_cloud.${preset}`);
      for (const [name, value] of leaves(doc)) {
        if (name.startsWith('alibaba_cloud.')) continue;
        const def = ecs.fields[name];
        assert.ok(def, `${preset}: ${name} is not an ECS ${ecs.ecsVersion} field`);
        const values = Array.isArray(value) ? value : [value];
        if (Array.isArray(value)) assert.ok(def.normalize?.includes('array'), `${name}: an array where ECS expects one value`);
        for (const v of values) {
          if (def.type === 'ip') assert.ok(typeof v === 'string' && isIP(v) > 0, `${name}=${String(v)} is no IP`);
          else if (def.type === 'long') assert.ok(Number.isSafeInteger(v), `${name}=${String(v)} is no long`);
          else if (def.type === 'date') assert.ok(typeof v === 'string' && !Number.isNaN(Date.parse(v)), `${name}=${String(v)} is no date`);
          else assert.equal(typeof v, 'string', `${name} (${def.type})`);
          if (def.allowed_values) assert.ok(def.allowed_values.includes(v as string), `${name}=${String(v)} is not one of ${def.allowed_values.join(', ')}`);
        }
        checked++;
      }
    }
  }
  assert.ok(checked > 100, `${checked} ECS fields checked`);
});

const fixture = <T>(name: string) => JSON.parse(readFileSync(join(__dirname, 'fixtures', 'siem', `${name}.json`), 'utf8')) as T;

test('CEF: every key a preset writes is in ArcSight\'s dictionary and has a CommonSecurityLog column in Sentinel (none lands in AdditionalExtensions); values within ArcSight\'s lengths', () => {
  const sentinel = fixture<{ keys: Record<string, string> }>('sentinel-cef-mapping');
  const arcsight = fixture<{ keys: Record<string, { length: number | null }>; header: Record<string, number> }>('arcsight-cef-keys');
  for (const [name, preset] of Object.entries(FIELD_PRESETS)) {
    const keys = [...Object.values(preset.cef), ...Object.keys(preset.cefLabels).map((k) => `${k}Label`)];
    for (const key of keys) {
      assert.ok(sentinel.keys[key], `${name}: CEF key ${key} has no CommonSecurityLog column (Sentinel files it under AdditionalExtensions)`);
      assert.ok(arcsight.keys[key], `${name}: ${key} is not in ArcSight's extension dictionary`);
    }
    for (const line of format(name, SCHEMAS.cef!)) {
      const { header, extensions } = cefOf(line);
      assert.ok(header[1]!.length <= arcsight.header.deviceVendor! && header[2]!.length <= arcsight.header.deviceProduct!);
      for (const key of keys) {
        const limit = arcsight.keys[key]!.length;
        if (limit !== null && extensions[key] !== undefined) assert.ok(extensions[key]!.length <= limit, `${name}: ${key} is ${extensions[key]!.length} long, ArcSight allows ${limit}`);
      }
    }
  }
});

test('LEEF: every key a preset writes is one of QRadar\'s predefined, implemented attributes, and its values have the documented type', () => {
  const leef = fixture<{ keys: Record<string, { type: string; reserved: boolean; limit: string | null }>; header: { eventIdMax: number } }>('leef-predefined');
  for (const [name, preset] of Object.entries(FIELD_PRESETS)) {
    for (const key of Object.values(preset.leef)) {
      assert.ok(leef.keys[key], `${name}: ${key} is not a predefined LEEF attribute`);
      assert.equal(leef.keys[key]!.reserved, false, `${name}: ${key} is reserved (not implemented in QRadar)`);
    }
    for (const line of format(name, SCHEMAS.leef!)) {
      const { header, attributes } = leefOf(line);
      assert.ok(header[4]!.length <= leef.header.eventIdMax);
      for (const key of Object.values(preset.leef)) {
        const value = attributes[key];
        if (value === undefined || value === '') continue;
        const type = leef.keys[key]!.type;
        if (/Address/.test(type)) assert.ok(isIP(value) > 0, `${name}: ${key}=${value} is no IP address`);
        if (type === 'Integer') assert.match(value, /^\d+$/, `${name}: ${key}=${value} is no integer`);
        if (leef.keys[key]!.limit === '0 - 65535') assert.ok(Number(value) <= 65535, `${name}: ${key}=${value}`);
      }
      assert.ok(Number(attributes.sev) >= 1 && Number(attributes.sev) <= 10);
    }
  }
});

test('Splunk CIM: every name a preset gives a field belongs to its data model (Web, Change, Network_Traffic)', () => {
  const cim = fixture<{ models: Record<string, string[]> }>('splunk-cim-fields');
  for (const [name, preset] of Object.entries(FIELD_PRESETS)) {
    const fields = cim.models[preset.cimModel];
    assert.ok(fields, `${name}: no CIM model ${preset.cimModel}`);
    for (const target of [...Object.values(preset.cim), 'vendor_product']) assert.ok(fields.includes(target), `${name}: ${target} is not a field of CIM ${preset.cimModel}`);
    // The result goes where the model wants it (Change: status success/failure).
    if (preset.failureWhenSet) assert.ok(fields.includes('status'));
  }
});

test('JSON_SCHEMA=ecs without a preset: renames to ECS names still take only what fits, the rest goes under alibaba_cloud.sls', () => {
  const config = flatConfig({ SYSLOG_HOST: 'h', SYSLOG_MESSAGE_FORMAT: 'json', JSON_SCHEMA: 'ecs', SYSLOG_FIELD_MAP: 'ip:source.ip,code:http.response.status_code' });
  const formatter = referenceFormatter(config, { project: 'p', logstore: 'app' });
  const body = encodeLogGroupList([encodeLogGroup({ logs: [
    { time: 1765000000, contents: [['ip', '2001:db8::7'], ['code', '404'], ['msg', 'x']] },
    { time: 1765000001, contents: [['ip', 'unknown'], ['code', 'n/a']] },
  ] })]);
  const [good, bad] = decodeGroupViews(body).flatMap((g) => g.logs.map((l) => ecsOf(formatter.format(g, l).bytes.toString())));
  assert.equal(good!.source.ip, '2001:db8::7');
  assert.equal(good!.http.response.status_code, 404);
  assert.equal(good!.alibaba_cloud.sls.msg, 'x');
  assert.equal(bad!.source, undefined);
  assert.deepEqual(bad!.alibaba_cloud.sls, { ip: 'unknown', code: 'n/a' });
});

test('bad preset settings: one clear error each, and a profile never hides an explicit setting', () => {
  const problems = (env: Env) => {
    try {
      flatConfig({ SYSLOG_HOST: 'h', ...env });
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };
  assert.match(problems({ FIELD_PRESET: 'wafx' }), /FIELD_PRESET="wafx" is not one of: waf, actiontrail, cloudfirewall, alb, none/);
  const inherited = problems({ FIELD_PRESET: 'toString', SIEM_PROFILE: '__proto__' });
  assert.match(inherited, /FIELD_PRESET="tostring" is not one of/);
  assert.match(inherited, /SIEM_PROFILE="__proto__" is not one of/);
  assert.match(problems({ JSON_SCHEMA: 'ecs' }), /JSON_SCHEMA=ecs shapes a JSON body: it needs SYSLOG_MESSAGE_FORMAT=json/);
  assert.match(problems({ SIEM_PROFILE: 'splunkk' }), /SIEM_PROFILE="splunkk" is not one of: sentinel, qradar, arcsight, splunk, elastic, none/);
  assert.doesNotMatch(problems({ FIELD_PRESET: 'wafx' }), /\n\s+at /, 'no stack trace');
  const explicit = flatConfig({ SYSLOG_HOST: 'h', SIEM_PROFILE: 'sentinel', SYSLOG_FACILITY: 'local6', SYSLOG_MESSAGE_FORMAT: 'leef' });
  assert.deepEqual([explicit.facility, explicit.messageFormat, explicit.format], [22, 'leef', 'rfc3164']);
});

test('ECS with hostile field names: __proto__, constructor and toString are kept as fields, nothing else changes', () => {
  const config = flatConfig({ SYSLOG_HOST: 'h', SYSLOG_MESSAGE_FORMAT: 'json', JSON_SCHEMA: 'ecs', FIELD_PRESET: 'waf' });
  const formatter = referenceFormatter(config, { project: 'p', logstore: 'waf' });
  const contents: Array<[string, string]> = [['__proto__', '{"polluted":1}'], ['constructor', 'c'], ['toString', 't'], ['toString', 't2'], ['real_client_ip', '203.0.113.1']];
  const body = encodeLogGroupList([encodeLogGroup({ logs: [{ time: 1765000000, contents }] })]);
  const [view] = decodeGroupViews(body);
  const text = formatter.format(view!, view!.logs[0]!).bytes.toString();
  const own = JSON.parse(text.slice(text.indexOf('{'))).alibaba_cloud.waf as Record<string, string>;
  assert.deepEqual(Object.entries(own), [['__proto__', '{"polluted":1}'], ['constructor', 'c'], ['toString', 't'], ['toString_2', 't2']]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
