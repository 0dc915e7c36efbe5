/**
 * How operations teams run the worker: the systemd unit for ECS / a plain server, checked with
 * the real `systemd-analyze verify` and held to what the worker needs (SIGTERM drains within the
 * stop timeout, settings from an EnvironmentFile, a dedicated user, restarts on failure).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const UNIT = join(__dirname, '../deploy/systemd/sls-syslog-forwarder.service');
/** The longest a drain takes: one range window (src/consume/worker.ts) plus the default proof timeout. */
const DRAIN_SECONDS = 20 + 10;

const verify = (file: string) => spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });

test('the systemd unit passes systemd-analyze verify, and a broken one does not', (t) => {
  if (spawnSync('systemd-analyze', ['--version']).status !== 0) {
    t.skip('systemd-analyze is not installed on this machine: the unit is NOT verified here');
    return;
  }
  const ok = verify(UNIT);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stderr.trim(), '', 'no warnings');
  const broken = join(mkdtempSync(join(tmpdir(), 'sls-fwd-unit-')), 'sls-syslog-forwarder.service');
  writeFileSync(broken, readFileSync(UNIT, 'utf8').replace('ExecStart=/usr/bin/node', 'ExecStart=/usr/bin/no-such-node').replace('KillSignal=SIGTERM', 'KillSignal=SIGTERMINATE'));
  const bad = verify(broken);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /no-such-node is not executable/);
  assert.match(bad.stderr, /Failed to parse signal name/);
});

test('the unit runs the worker as the worker needs: SIGTERM drain within the stop timeout, EnvironmentFile, own user, restart', () => {
  const unit = readFileSync(UNIT, 'utf8');
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1];
  assert.match(value('ExecStart') ?? '', /bin\/sls-syslog-forwarder\.js consume$/);
  assert.equal(value('KillSignal'), 'SIGTERM');
  assert.ok(Number(value('TimeoutStopSec')) > DRAIN_SECONDS, `TimeoutStopSec ${value('TimeoutStopSec')} leaves the ${DRAIN_SECONDS} s drain room`);
  assert.match(value('EnvironmentFile') ?? '', /^\/etc\/sls-syslog-forwarder\/env$/);
  assert.ok(value('User') && value('User') !== 'root', 'a dedicated user');
  assert.equal(value('Restart'), 'on-failure');
  assert.equal(value('NoNewPrivileges'), 'true');
});
