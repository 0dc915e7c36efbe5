/**
 * Run inside a network namespace the test made (`ip netns exec`), where 100.100.100.200 is a
 * local address: serves the ECS metadata service in its hardened mode (IMDSv2: a PUT for a token,
 * then every read must carry it; token-less reads answer 403), then gets credentials through
 * `officialCredentials` with ALIBABA_CLOUD_ECS_METADATA and signs a real GetCursor with them
 * against an emulator that knows only those STS keys. Prints one JSON line with what it saw.
 */
import http from 'node:http';
import { officialCredentials } from '../../src/consume/credentials';
import { SlsClient } from '../../src/sls/client';
import { SlsEmulator } from '../sls-emulator/server';

const ROLE = 'sls-forwarder-role';
const STS = { AccessKeyId: 'STS.ecs-role-key', AccessKeySecret: 'ecs-role-secret-do-not-print', SecurityToken: 'ecs-role-token' };

async function main(): Promise<void> {
  const seen = { tokenRequests: 0, readsWithToken: 0, readsWithoutToken: 0 };
  const token = `imds-${Math.random().toString(36).slice(2)}`;
  const metadata = http.createServer((req, res) => {
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      seen.tokenRequests++;
      res.end(token);
      return;
    }
    if (req.headers['x-aliyun-ecs-metadata-token'] !== token) {
      seen.readsWithoutToken++;
      res.writeHead(403).end('IMDSv1 is disabled on this instance');
      return;
    }
    seen.readsWithToken++;
    if (req.url === '/latest/meta-data/ram/security-credentials/') return void res.end(ROLE);
    if (req.url === `/latest/meta-data/ram/security-credentials/${ROLE}`) {
      res.end(JSON.stringify({ Code: 'Success', ...STS, Expiration: new Date(Date.now() + 6 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z'), LastUpdated: new Date().toISOString() }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => metadata.listen(80, '100.100.100.200', r));
  const emulator = new SlsEmulator({ keys: { [STS.AccessKeyId]: { secret: STS.AccessKeySecret, securityToken: STS.SecurityToken } } });
  await emulator.start();
  emulator.createLogstore('p', 'store', 1);
  let cursor = '';
  let error = '';
  const client = new SlsClient({ endpoint: emulator.endpoint, project: 'p', credentials: officialCredentials(process.env) });
  try {
    cursor = await client.getCursor('store', 0, 'begin');
  } catch (err) {
    error = (err as Error).message;
  }
  client.close();
  await emulator.stop();
  metadata.close();
  console.log(JSON.stringify({ cursor, error, ...seen }));
}

void main();
