/**
 * `npm run check-deploy [-- --env FILE]`: validates s.yaml offline with the values of .env
 * (or .env.example), because Serverless Devs cannot verify an edition 1.0.0 file without the network.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkSYaml, configSources, parseDotenv } from './lib/s-yaml';

const root = resolve(__dirname, '..');
const { values } = parseArgs({ options: { env: { type: 'string' }, 'account-id': { type: 'string', default: '123456789012' } } });
const envFile = values.env ?? (existsSync(join(root, '.env')) ? join(root, '.env') : join(root, '.env.example'));
const { problems } = checkSYaml(
  readFileSync(join(root, 's.yaml'), 'utf8'),
  parseDotenv(readFileSync(envFile, 'utf8')),
  values['account-id']!,
  configSources(root),
);
if (problems.length > 0) {
  console.error(`s.yaml has ${problems.length} problem(s) with ${envFile}:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(`s.yaml is valid with ${envFile}`);
