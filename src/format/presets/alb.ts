/**
 * Application Load Balancer access logs (topic `alb_layer7_access_log`): the HTTP front door,
 * for the requests that do not pass through WAF. Fields: https://www.alibabacloud.com/help/en/sls/alb
 */
import type { FieldPreset } from './types';

export const alb: FieldPreset = {
  name: 'alb',
  describes: 'Alibaba Cloud ALB (Application Load Balancer) access logs',
  fieldReference: 'https://www.alibabacloud.com/help/en/sls/alb',
  header: { vendor: 'Alibaba Cloud', product: 'ALB', version: '1', idField: 'status', nameField: 'request_method' },
  severity: [],
  sourcetype: 'alicloud:alb',
  cef: {
    client_ip: 'src', client_port: 'spt', slb_vport: 'dpt', host: 'dhost', request_method: 'requestMethod', request_uri: 'request',
    http_user_agent: 'requestClientApplication', http_referer: 'requestContext', server_protocol: 'app', app_lb_id: 'deviceExternalId',
    request_length: 'in', body_bytes_sent: 'out',
    upstream_addr: 'cs1', http_x_forwarded_for: 'cs2', upstream_status: 'cs3', status: 'cn1',
  },
  cefLabels: { cs1: 'upstreamAddr', cs2: 'xForwardedFor', cs3: 'upstreamStatus', cn1: 'httpStatus' },
  leef: { client_ip: 'src', client_port: 'srcPort', slb_vport: 'dstPort', request_uri: 'url', request_length: 'srcBytes', body_bytes_sent: 'dstBytes' },
  ecs: {
    client_ip: 'source.ip', client_port: 'source.port', slb_vport: 'destination.port', host: 'url.domain', request_uri: 'url.original',
    request_method: 'http.request.method', http_user_agent: 'user_agent.original', http_referer: 'http.request.referrer',
    request_length: 'http.request.bytes', status: 'http.response.status_code', body_bytes_sent: 'http.response.body.bytes', ssl_cipher: 'tls.cipher',
  },
  ecsEvent: { category: ['web'], type: ['access'] },
  cim: {
    client_ip: 'src', slb_vport: 'dest_port', host: 'dest', request_method: 'http_method', http_referer: 'http_referrer',
    request_uri: 'url', request_length: 'bytes_in', body_bytes_sent: 'bytes_out',
  },
  cimModel: 'Web',
};
