/**
 * `npm run publish-layer`: packages and publishes build/layer.zip as a new FC layer version and
 * prints the ARN to put in LAYER_ARN (optional: layer/README.md). Flags (or .env): --region (REGION),
 * --account-id (ALIBABA_CLOUD_ACCOUNT_ID), --name (default sls-syslog-forwarder), --fc-version 3|2
 * (FC_VERSION; FC 3.0 by default), --fc-endpoint.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { credentialsFromEnv, parseFlags, run, setting } from './lib/cloud';
import { fcApi, fcVersion } from './lib/fc-api';

const flags = parseFlags({
  region: { type: 'string' }, 'account-id': { type: 'string' }, name: { type: 'string', default: 'sls-syslog-forwarder' },
  zip: { type: 'string', default: join(resolve(__dirname, '..'), 'build/layer.zip') }, 'fc-endpoint': { type: 'string' }, 'fc-version': { type: 'string' },
}, `
npm run publish-layer -- [options]: package build/layer.zip and publish it as a new layer version
(optional: layer/README.md); prints the LAYER_ARN for .env.

  --region R         REGION
  --account-id A     ALIBABA_CLOUD_ACCOUNT_ID
  --name N           layer name (default sls-syslog-forwarder)
  --zip FILE         the zip to publish (default build/layer.zip)
  --fc-version 3|2   FC_VERSION: FC 3.0 (the default) or FC 2.0
  --fc-endpoint URL  the FC API (default <account>.<region>.fc.aliyuncs.com)
  -h, --help         this text
Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET (+ ALIBABA_CLOUD_SECURITY_TOKEN).`);

run(async () => {
  const region = setting(flags, 'region', 'REGION');
  const accountId = setting(flags, 'account-id', 'ALIBABA_CLOUD_ACCOUNT_ID');
  const zip = readFileSync(flags.zip!);
  const version = fcVersion(flags);
  const fc = fcApi(version, { accountId, region, credentials: credentialsFromEnv(), endpoint: flags['fc-endpoint'] });
  const layer = await fc.publishLayer(flags.name!, zip, 'sls-syslog-forwarder runtime layer (nodejs/node_modules, certs/)', ['nodejs20', 'nodejs18']);
  console.log(`Published ${flags.name} version ${layer.version} on FC ${version}.0 (${zip.length} bytes).\nSet in .env:  LAYER_ARN=${layer.arn}`);
});
