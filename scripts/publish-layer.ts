/**
 * `npm run publish-layer`: packages and publishes build/layer.zip as a new FC layer version and
 * prints the ARN to put in LAYER_ARN. Flags (or .env): --region (REGION), --account-id
 * (ALIBABA_CLOUD_ACCOUNT_ID), --name (default sls-syslog-forwarder), --fc-endpoint.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { credentialsFromEnv, fcClient, run, setting } from './lib/cloud';

const { values: flags } = parseArgs({
  options: {
    region: { type: 'string' }, 'account-id': { type: 'string' }, name: { type: 'string', default: 'sls-syslog-forwarder' },
    zip: { type: 'string', default: join(resolve(__dirname, '..'), 'build/layer.zip') }, 'fc-endpoint': { type: 'string' },
  },
});

run(async () => {
  const region = setting(flags, 'region', 'REGION');
  const accountId = setting(flags, 'account-id', 'ALIBABA_CLOUD_ACCOUNT_ID');
  const zip = readFileSync(flags.zip!);
  const fc = fcClient(accountId, region, credentialsFromEnv(), flags['fc-endpoint']);
  const { data } = await fc.publishLayerVersion(flags.name!, {
    description: 'sls-syslog-forwarder runtime layer (nodejs/node_modules, certs/)',
    compatibleRuntime: ['nodejs20', 'nodejs18'],
    code: { zipFile: zip.toString('base64') },
  });
  const arn = data.arnV2 ?? `acs:fc:${region}:${accountId}:layers/${flags.name}/versions/${data.version}`;
  console.log(`Published ${flags.name} version ${data.version} (${zip.length} bytes).\nSet in .env:  LAYER_ARN=${arn}`);
});
