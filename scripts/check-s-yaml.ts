/**
 * `npm run check-deploy [-- --env FILE] [--account-id ID]`: checks both deploy files offline with the
 * values of .env (or .env.example): s.yaml (FC 3.0) rendered by the real `s preview` against the
 * fc3 props schema, and s.fc2.yaml (FC 2.0) against its own schema. Exit 1 with every problem listed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkFc3Yaml, checkSYaml, configSources, parseDotenv } from './lib/s-yaml';
import { parseFlags } from './lib/cloud';

const root = resolve(__dirname, '..');
const values = parseFlags({ env: { type: 'string' }, 'account-id': { type: 'string', default: '123456789012' } }, `
npm run check-deploy -- [options]: check s.yaml (FC 3.0, rendered by the real \`s preview\`) and
s.fc2.yaml (FC 2.0) offline, with the values of an env file. Exit 1 lists every problem.

  --env FILE         the env file (default .env, else .env.example)
  --account-id A     the account id \${config('AccountID')} renders as (default 123456789012)
  -h, --help         this text`);
const envFile = values.env ?? (existsSync(join(root, '.env')) ? join(root, '.env') : join(root, '.env.example'));
if (!existsSync(envFile)) {
  console.error(`No env file at ${envFile}: copy .env.example to .env and fill it in, or give --env FILE.`);
  process.exit(1);
}
const envText = readFileSync(envFile, 'utf8');
const configSource = configSources(root);
const results: Array<[string, string[]]> = [
  ['s.yaml (FC 3.0)', checkFc3Yaml(readFileSync(join(root, 's.yaml'), 'utf8'), envText, values['account-id']!, configSource).problems],
  ['s.fc2.yaml (FC 2.0)', checkSYaml(readFileSync(join(root, 's.fc2.yaml'), 'utf8'), parseDotenv(envText), values['account-id']!, configSource).problems],
];
let failed = false;
for (const [file, problems] of results) {
  if (problems.length === 0) console.log(`${file} is valid with ${envFile}`);
  else {
    failed = true;
    console.error(`${file} has ${problems.length} problem(s) with ${envFile}:\n- ${problems.join('\n- ')}`);
  }
}
process.exit(failed ? 1 : 0);
