/**
 * WAF 3.0 access logs (logstore `wafnew-logstore`). Fields:
 * https://www.alibabacloud.com/help/en/waf/web-application-firewall-3-0/fields-in-logs
 * `real_client_ip` is the client behind any proxy ("-" when WAF cannot tell); `src_ip`/`src_port`
 * are the connection to WAF (a CDN node, when there is one).
 */
import { S } from '../levels';
import type { FieldPreset } from './types';

export const waf: FieldPreset = {
  name: 'waf',
  describes: 'Alibaba Cloud WAF 3.0 access logs',
  fieldReference: 'https://www.alibabacloud.com/help/en/waf/web-application-firewall-3-0/fields-in-logs',
  header: { vendor: 'Alibaba Cloud', product: 'WAF', version: '3.0', idField: 'final_rule_id', nameField: 'final_rule_type' },
  // final_action is what WAF did with the request (absent when no protection module acted).
  severity: [
    { field: 'final_action', value: 'block', level: S.warning },
    { field: 'final_action', value: 'captcha_strict', level: S.notice },
    { field: 'final_action', value: 'captcha', level: S.notice },
    { field: 'final_action', value: 'sigchl', level: S.notice },
    { field: 'final_action', value: 'js', level: S.notice },
    { field: 'final_action', value: 'pass', level: S.info },
  ],
  sourcetype: 'alicloud:waf',
  cef: {
    real_client_ip: 'src', src_port: 'spt', dst_port: 'dpt', host: 'dhost',
    request_method: 'requestMethod', request_uri: 'request', http_user_agent: 'requestClientApplication',
    http_referer: 'requestContext', http_cookie: 'requestCookies', final_action: 'act', server_protocol: 'app',
    request_length: 'in', body_bytes_sent: 'out',
    final_plugin: 'cs1', final_rule_type: 'cs2', final_rule_id: 'cs3', request_traceid: 'cs4', matched_host: 'cs5', http_x_forwarded_for: 'cs6',
    status: 'cn1', request_time_msec: 'cn2',
  },
  cefLabels: {
    cs1: 'finalPlugin', cs2: 'finalRuleType', cs3: 'finalRuleId', cs4: 'requestTraceId', cs5: 'matchedHost', cs6: 'xForwardedFor',
    cn1: 'httpStatus', cn2: 'requestTimeMsec',
  },
  leef: {
    real_client_ip: 'src', src_port: 'srcPort', dst_port: 'dstPort', request_uri: 'url', final_plugin: 'cat', final_rule_id: 'policy',
    request_length: 'srcBytes', body_bytes_sent: 'dstBytes',
  },
  ecs: {
    real_client_ip: 'source.ip', src_ip: 'client.ip', src_port: 'client.port', dst_port: 'destination.port',
    host: 'url.domain', request_path: 'url.path', querystring: 'url.query', request_uri: 'url.original',
    request_method: 'http.request.method', http_user_agent: 'user_agent.original', http_referer: 'http.request.referrer',
    request_traceid: 'http.request.id', request_length: 'http.request.bytes',
    status: 'http.response.status_code', body_bytes_sent: 'http.response.body.bytes',
    final_action: 'event.action', final_rule_id: 'rule.id', final_rule_type: 'rule.category', final_plugin: 'rule.ruleset',
    ssl_cipher: 'tls.cipher', region: 'cloud.region', user_id: 'cloud.account.id',
  },
  ecsEvent: { category: ['web'], type: ['access'] },
  cim: {
    real_client_ip: 'src', dst_port: 'dest_port', host: 'dest',
    request_method: 'http_method', http_referer: 'http_referrer', request_uri: 'url', request_path: 'uri_path', querystring: 'uri_query',
    final_action: 'action', request_length: 'bytes_in', body_bytes_sent: 'bytes_out', request_time_msec: 'duration',
  },
  cimModel: 'Web',
};
