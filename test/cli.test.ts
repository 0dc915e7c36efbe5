/**
 * What a user types: `sls-syslog-forwarder --help/--version`, each command's help, and every
 * `npm run` script a user calls answer --help with their options, and a mistake with one line
 * and exit 2, never a stack trace.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '..');
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
const run = (args: string[]) => {
  const r = spawnSync(process.execPath, args, { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const cli = (...args: string[]) => run([join(root, 'bin/sls-syslog-forwarder.js'), ...args]);
const script = (file: string, ...args: string[]) => run(['--import', 'tsx', file, ...args]);
const noStack = (text: string) => assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+/, `no stack trace: ${text}`);

test('sls-syslog-forwarder: --help, --version, consume --help; mistakes in one line with exit 2', () => {
  const help = cli('--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /usage: sls-syslog-forwarder <command>/);
  assert.match(help.out, /consume {3}join an SLS consumer group/);
  const version = cli('--version');
  assert.equal(version.code, 0);
  assert.equal(version.out.trim(), (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version);
  const consumeHelp = cli('consume', '--help');
  assert.equal(consumeHelp.code, 0);
  assert.match(consumeHelp.out, /SLS_CONSUMER_GROUP/);
  for (const [args, expected] of [[['frobnicate'], /unknown command "frobnicate": the commands are consume/], [['consume', '--zap'], /consume takes no options \("--zap"\)/]] as const) {
    const r = cli(...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, expected);
    assert.equal(r.err.trim().split('\n').length, 1, 'one line');
  }
  const unset = cli('consume');
  assert.equal(unset.code, 1);
  assert.match(unset.err, /Invalid forwarder settings \(\d+ problems\):\n- SLS_ENDPOINT is not set/);
  noStack(unset.err);
});

for (const [name, file, option] of [
  ['invoke', 'scripts/invoke.ts', /--from T, --to T/],
  ['publish-layer', 'scripts/publish-layer.ts', /--fc-version 3\|2/],
  ['check-deploy', 'scripts/check-s-yaml.ts', /--env FILE/],
  ['bench', 'benchmarks/run.ts', /--only TEXT/],
  ['sbom', 'scripts/sbom.ts', /--out FILE/],
] as const) {
  test(`npm run ${name}: --help lists its options; an unknown option is one line and exit 2`, () => {
    const help = script(file, '--help');
    assert.equal(help.code, 0, help.err);
    assert.match(help.out, new RegExp(`npm run ${name} -- \\[options\\]`));
    assert.match(help.out, option);
    const bad = script(file, '--no-such-option');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /^Unknown option '--no-such-option' \(--help lists the options\)$/m);
    noStack(bad.err);
  });
}
