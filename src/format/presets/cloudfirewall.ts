/**
 * Cloud Firewall traffic logs (topic `cloudfirewall_access_log`): the network side of what WAF
 * sees for HTTP, and the source Alibaba documents exporting to a third-party SOC. Fields:
 * https://www.alibabacloud.com/help/en/cloud-firewall/cloudfirewall/log-fields
 */
import { S } from '../levels';
import type { FieldPreset } from './types';

export const cloudfirewall: FieldPreset = {
  name: 'cloudfirewall',
  describes: 'Alibaba Cloud Firewall traffic logs',
  fieldReference: 'https://www.alibabacloud.com/help/en/cloud-firewall/cloudfirewall/log-fields',
  header: { vendor: 'Alibaba Cloud', product: 'Cloud Firewall', version: '1', idField: 'log_type', nameField: 'rule_result' },
  // rule_result: what the firewall did (pass, alert, drop).
  severity: [
    { field: 'rule_result', value: 'drop', level: S.warning },
    { field: 'rule_result', value: 'alert', level: S.notice },
    { field: 'rule_result', value: 'pass', level: S.info },
  ],
  sourcetype: 'alicloud:cloudfirewall',
  cef: {
    src_ip: 'src', src_port: 'spt', dst_ip: 'dst', dst_port: 'dpt', ip_protocol: 'proto', rule_result: 'act', app_name: 'app',
    domain: 'dhost', url: 'request', in_packet_bytes: 'in', out_packet_bytes: 'out',
    acl_rule_id: 'cs1', direction: 'cs2', ips_rule_name_en: 'cs3', attack_type_name_en: 'cs4', region_id: 'cs5', aliuid: 'cs6',
  },
  cefLabels: { cs1: 'aclRuleId', cs2: 'direction', cs3: 'ipsRuleName', cs4: 'attackType', cs5: 'region', cs6: 'accountId' },
  leef: {
    src_ip: 'src', src_port: 'srcPort', dst_ip: 'dst', dst_port: 'dstPort', ip_protocol: 'proto', log_type: 'cat', acl_rule_id: 'policy',
    total_packet_count: 'totalPackets',
  },
  ecs: {
    src_ip: 'source.ip', src_port: 'source.port', dst_ip: 'destination.ip', dst_port: 'destination.port',
    rule_result: 'event.action', acl_rule_id: 'rule.id', ips_rule_name_en: 'rule.name', domain: 'url.domain', url: 'url.original',
    total_packet_bytes: 'network.bytes', total_packet_count: 'network.packets', region_id: 'cloud.region', aliuid: 'cloud.account.id',
  },
  ecsEvent: { category: ['network'], type: ['connection'] },
  cim: {
    dst_ip: 'dest_ip', dst_port: 'dest_port', ip_protocol: 'transport', rule_result: 'action', acl_rule_id: 'rule_id', app_name: 'app',
    in_packet_bytes: 'bytes_in', out_packet_bytes: 'bytes_out', total_packet_bytes: 'bytes', total_packet_count: 'packets',
  },
  cimModel: 'Network_Traffic',
};
