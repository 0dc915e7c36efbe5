/**
 * Realistic records of each log type a field preset maps, with the field names Alibaba documents:
 * WAF 3.0 (fields-in-logs), ActionTrail's event structure (one field `event` holding the JSON),
 * Cloud Firewall traffic logs, ALB access logs. Values are made up but shaped as documented
 * (WAF writes `-` for an unknown client IP, ActionTrail `null` for no error).
 */
type Pair = [string, string];

export interface PresetGroup {
  topic: string;
  source: string;
  tags: Pair[];
  logs: Array<{ time: number; timeNs: number; contents: Pair[] }>;
}

const T = 1765000000;

const wafLog = (over: Record<string, string>): Pair[] => Object.entries({
  time: '2025-12-06T13:46:40+08:00', start_time: String(T), real_client_ip: '203.0.113.7', src_ip: '198.51.100.2', src_port: '50123',
  dst_port: '443', host: 'shop.example.com', matched_host: '*.example.com', request_method: 'POST', request_uri: '/login?next=/cart',
  request_path: '/login', querystring: 'next=/cart', http_user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
  http_referer: 'https://shop.example.com/', http_cookie: 'session=abc; lang=en', http_x_forwarded_for: '203.0.113.7',
  content_type: 'application/x-www-form-urlencoded', server_protocol: 'HTTP/1.1', ssl_protocol: 'TLSv1.3', ssl_cipher: 'TLS_AES_128_GCM_SHA256',
  status: '200', upstream_status: '200', upstream_addr: '10.0.0.12:443', upstream_response_time: '0.031', request_time_msec: '35',
  request_length: '466', body_bytes_sent: '4767', request_traceid: '7837b0ba17657781d6ea1f0e1b', region: 'cn', user_id: '1646165317123365',
  ...over,
});

export const PRESET_GROUPS: Record<string, PresetGroup> = {
  waf: {
    topic: 'waf_access_log', source: '', tags: [],
    logs: [
      { time: T, timeNs: 123_000_000, contents: wafLog({ final_action: 'block', final_plugin: 'waf', final_rule_id: '115341', final_rule_type: 'sqli', status: '405', upstream_status: '-', request_uri: "/search?q=1' OR '1'='1", querystring: "q=1' OR '1'='1", request_path: '/search', request_method: 'GET' }) },
      { time: T + 1, timeNs: 0, contents: wafLog({}) },
      // A proxy WAF could not see through: the client IP is "-".
      { time: T + 2, timeNs: 5_000_000, contents: wafLog({ real_client_ip: '-', final_action: 'captcha', final_plugin: 'cc', final_rule_id: '200001', final_rule_type: 'custom', http_user_agent: 'curl/8.5.0 |=\\ tricky' }) },
    ],
  },
  actiontrail: {
    topic: 'actiontrail_audit_event', source: 'actiontrail', tags: [],
    logs: [
      {
        time: T, timeNs: 0, contents: [['event', JSON.stringify({
          eventId: 'A5A4BB74-EFBC-5D8B-BD8A-1B9131429438', eventVersion: 1, eventCategory: 'Management', eventType: 'ApiCall', eventRW: 'Write',
          eventName: 'DeleteInstance', eventSource: 'ecs.cn-hangzhou.aliyuncs.com', eventTime: '2025-12-06T05:46:40Z', acsRegion: 'cn-hangzhou',
          serviceName: 'Ecs', apiVersion: '2014-05-26', requestId: 'C8E9D4D0-6B2E-4D5A-9F1B-2A3C4D5E6F70', sourceIpAddress: '203.0.113.9',
          userAgent: 'AlibabaCloud (Linux) Java/1.8 Core/4.5', errorCode: 'Forbidden.RAM', errorMessage: 'User not authorized to operate on the specified resource.',
          userIdentity: { type: 'ram-user', principalId: '288153348682781234', accountId: '1968132276291234', accessKeyId: 'LTAI4Fk9xxxxxxxx1234', userName: 'alice' },
          requestParameters: { InstanceId: 'i-bp1abcdefg' }, resourceType: 'ACS::ECS::Instance', resourceName: 'i-bp1abcdefg', isGlobal: false,
        })]],
      },
      {
        time: T + 1, timeNs: 0, contents: [['event', JSON.stringify({
          eventId: '0C1D2E3F-4A5B-6C7D-8E9F-A0B1C2D3E4F5', eventVersion: 1, eventCategory: 'Management', eventType: 'ConsoleSignin', eventRW: 'Write',
          eventName: 'ConsoleSignin', eventSource: 'signin.aliyun.com', eventTime: '2025-12-06T05:46:41Z', acsRegion: 'cn-hangzhou', serviceName: 'AasSub',
          sourceIpAddress: '198.51.100.20', userAgent: 'Mozilla/5.0', errorCode: null, errorMessage: null,
          userIdentity: { type: 'ram-user', principalId: '288153348682785678', accountId: '1968132276291234', userName: 'bob' },
          additionalEventData: { loginAccount: 'bob@1968132276291234.onaliyun.com', mfaChecked: 'true' },
        })]],
      },
    ],
  },
  cloudfirewall: {
    topic: 'cloudfirewall_access_log', source: '', tags: [],
    logs: [
      { time: T, timeNs: 0, contents: Object.entries({
        log_type: 'internet_log', aliuid: '1968132276291234', direction: 'in', src_ip: '192.0.2.44', src_port: '51514', dst_ip: '47.98.1.10', dst_port: '22',
        ip_protocol: 'TCP', app_name: 'SSH', rule_result: 'drop', acl_rule_id: '7c6a1b2e-0000-4c1d-9a7b-1f2e3d4c5b6a', ips_rule_id: '', attack_type_name_en: '',
        in_packet_bytes: '120', out_packet_bytes: '0', in_packet_count: '2', out_packet_count: '0', total_packet_bytes: '120', total_packet_count: '2',
        start_time: String(T - 1), end_time: String(T), region_id: 'cn-hangzhou', domain: '', url: '',
      }) },
      { time: T + 1, timeNs: 0, contents: Object.entries({
        log_type: 'internet_log', aliuid: '1968132276291234', direction: 'out', src_ip: '172.16.0.8', src_port: '40112', dst_ip: '93.184.215.14', dst_port: '443',
        ip_protocol: 'TCP', app_name: 'HTTPS', rule_result: 'pass', acl_rule_id: '00000000-0000-0000-0000-000000000000', domain: 'example.com', url: 'example.com/',
        in_packet_bytes: '5230', out_packet_bytes: '1180', total_packet_bytes: '6410', total_packet_count: '14', start_time: String(T), end_time: String(T + 1), region_id: 'cn-hangzhou',
      }) },
    ],
  },
  alb: {
    topic: 'alb_layer7_access_log', source: '', tags: [],
    logs: [
      { time: T, timeNs: 250_000_000, contents: Object.entries({
        app_lb_id: 'alb-o9ulmq5hgn68jk****', client_ip: '203.0.113.50', client_port: '60001', slb_vport: '443', host: 'api.example.com', http_host: 'api.example.com',
        request_method: 'GET', request_uri: '/v1/orders?id=42', scheme: 'https', server_protocol: 'HTTP/2.0', http_user_agent: 'okhttp/4.12.0', http_referer: '-',
        http_x_forwarded_for: '-', status: '502', upstream_status: '502', upstream_addr: '10.0.1.5:8080', request_time: '0.052', upstream_response_time: '0.050',
        request_length: '312', body_bytes_sent: '150', ssl_protocol: 'TLSv1.2', ssl_cipher: 'ECDHE-RSA-AES128-GCM-SHA256', time: '2025-12-06T13:46:40+08:00',
      }) },
    ],
  },
};

/** The first WAF record's values the done-when checks name. */
export const WAF_BLOCK = Object.fromEntries(PRESET_GROUPS.waf!.logs[0]!.contents);
