/**
 * ActionTrail events delivered to SLS (logstore `actiontrail_<trail>`, topic
 * `actiontrail_audit_event`): the whole event is one field, `event`, holding JSON, so the tables
 * name paths into it. Event structure: https://www.alibabacloud.com/help/doc-detail/28819.html
 */
import { S } from '../levels';
import type { FieldPreset } from './types';

export const actiontrail: FieldPreset = {
  name: 'actiontrail',
  describes: 'Alibaba Cloud ActionTrail audit events',
  fieldReference: 'https://www.alibabacloud.com/help/doc-detail/28819.html',
  header: { vendor: 'Alibaba Cloud', product: 'ActionTrail', version: '1', idField: 'event.eventName', nameField: 'event.eventName' },
  // Failed calls first, then writes (changes to resources), then reads.
  severity: [
    { field: 'event.errorCode', value: '*', level: S.warning },
    { field: 'event.eventRW', value: 'write', level: S.notice },
    { field: 'event.eventRW', value: 'read', level: S.info },
  ],
  failureWhenSet: 'event.errorCode',
  sourcetype: 'alicloud:actiontrail',
  cef: {
    'event.sourceIpAddress': 'src', 'event.userIdentity.userName': 'suser', 'event.userIdentity.principalId': 'suid',
    'event.eventName': 'act', 'event.eventSource': 'dhost', 'event.serviceName': 'destinationServiceName',
    'event.userAgent': 'requestClientApplication', 'event.eventType': 'cat', 'event.errorCode': 'reason', 'event.errorMessage': 'msg',
    'event.eventRW': 'cs1', 'event.userIdentity.accessKeyId': 'cs2', 'event.userIdentity.type': 'cs3', 'event.userIdentity.accountId': 'cs4',
    'event.acsRegion': 'cs5', 'event.resourceName': 'cs6',
  },
  cefLabels: { cs1: 'eventRW', cs2: 'accessKeyId', cs3: 'userType', cs4: 'accountId', cs5: 'region', cs6: 'resourceName' },
  leef: {
    'event.sourceIpAddress': 'src', 'event.userIdentity.userName': 'usrName', 'event.userIdentity.accountId': 'accountName',
    'event.serviceName': 'cat', 'event.resourceName': 'resource',
  },
  ecs: {
    'event.sourceIpAddress': 'source.ip', 'event.userIdentity.userName': 'user.name', 'event.userIdentity.principalId': 'user.id',
    'event.userIdentity.accountId': 'cloud.account.id', 'event.acsRegion': 'cloud.region', 'event.eventName': 'event.action',
    'event.eventId': 'event.id', 'event.serviceName': 'service.name', 'event.userAgent': 'user_agent.original',
    'event.errorCode': 'error.code', 'event.errorMessage': 'error.message',
  },
  ecsEvent: { category: ['api'], type: ['info'] },
  cim: {
    'event.sourceIpAddress': 'src', 'event.userIdentity.userName': 'user', 'event.eventName': 'command',
    'event.resourceName': 'object', 'event.resourceType': 'object_category', 'event.acsRegion': 'dest',
  },
  cimModel: 'Change',
};
