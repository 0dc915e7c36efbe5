import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentMd5, signV1, stringToSign } from '../src/sls/signature';

// Vectors from aliyun-log-rust-sdk sign/src/sign.rs (see ../shared/docs/sls-protocol.md 1.1).
const DATE = 'Thu, 01 Jan 1970 00:00:00 GMT';
const BODY = Buffer.from('\n            {"key": "value"}\n        ');
const base = { date: DATE, 'x-log-apiversion': '0.6.0', 'x-log-signaturemethod': 'hmac-sha1' };

test('body MD5 is upper-case hex', () => {
  assert.equal(BODY.length, 38);
  assert.equal(contentMd5(BODY), 'CE688F8D1AC3ED309BA9BE0A5ABAFCE5');
});

test('vector 1: GET / with an empty secret', () => {
  assert.equal(
    signV1({ method: 'GET', path: '/', query: {}, headers: { ...base }, accessKeyId: '', accessKeySecret: '' }),
    'LOG :SApFTtfTFKHmzdEdaMe5TjNn+RQ=',
  );
});

const postHeaders = { ...base, 'content-type': 'application/json', 'content-md5': contentMd5(BODY) };
const postQuery = { type: 'log', offset: '0', line: '100' };

test('vector 2: POST with query parameters signed in sorted order', () => {
  const input = { method: 'POST', path: '/logstores/test-logstore', query: postQuery, headers: postHeaders };
  assert.ok(stringToSign(input).endsWith('/logstores/test-logstore?line=100&offset=0&type=log'));
  assert.equal(
    signV1({ ...input, accessKeyId: 'test-access-key-id', accessKeySecret: 'test-access-key' }),
    'LOG test-access-key-id:4pL2xZJERC3tPKtRiHh9+nMG3tI=',
  );
});

test('vector 3: the STS token header is signed', () => {
  assert.equal(
    signV1({
      method: 'POST', path: '/logstores/test-logstore', query: postQuery,
      headers: { ...postHeaders, 'x-acs-security-token': 'test-security-token' },
      accessKeyId: 'test-access-key-id', accessKeySecret: 'test-access-key',
    }),
    'LOG test-access-key-id:ZQt+0wIvpd+O9yIJKeKxZTJ2hv0=',
  );
});

test('vector 4: a cursor is signed decoded (with its == padding)', () => {
  assert.equal(
    signV1({
      method: 'POST', path: '/logstores/test/shards/2',
      query: { type: 'log', count: '1000', cursor: 'MTczNzY2OTAzNjAxNzIxODQ1NA==' },
      headers: { ...postHeaders, 'x-acs-security-token': 'test-security-token' },
      accessKeyId: 'test-access-key-id', accessKeySecret: 'test-access-key',
    }),
    'LOG test-access-key-id:K3rw5WXRe77aZ/meSyEa8NNUYFc=',
  );
});
