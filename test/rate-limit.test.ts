/**
 * OUTPUT_MAX_EVENTS_PER_SECOND / OUTPUT_MAX_BYTES_PER_SECOND through the built function, to a real
 * rsyslog on 127.0.0.1: the receiver is fed no faster than the limit, every record arrives, and a
 * range that cannot finish at that rate before the deadline proves what it sent, fails, and is
 * carried on by the trigger's retry (resume), nothing lost.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SlsEmulator } from './sls-emulator/server';
import { FcInstance, invokeFunction, TEST_KEYS } from './support/fc-invoke';
import { encodeLogGroup } from './support/log-group-writer';
import { Rsyslog } from './support/rsyslog';

const PROJECT = 'proj';
const JOB = 'ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12';
let rsyslog: Rsyslog;
let emulator: SlsEmulator;

function fill(logstore: string, groups: number, perGroup: number): Set<string> {
  emulator.createLogstore(PROJECT, logstore, 1);
  const ids = new Set<string>();
  for (let g = 0; g < groups; g++) {
    const logs = Array.from({ length: perGroup }, (_, i) => ({ time: 1737669036, contents: [['id', `${logstore}-${g}-${i}`], ['pad', 'x'.repeat(100)]] as Array<[string, string]> }));
    for (const l of logs) ids.add(l.contents[0]![1]);
    emulator.appendGroup(PROJECT, logstore, 0, encodeLogGroup({ logs }));
  }
  return ids;
}

let small: Set<string>;
let long: Set<string>;

before(async () => {
  rsyslog = await new Rsyslog().start();
  emulator = new SlsEmulator({ keys: TEST_KEYS });
  await emulator.start();
  small = fill('small', 15, 100); // 1 500 records
  long = fill('long', 10, 100); // 1 000 records
});
after(async () => {
  await rsyslog?.stop();
  await emulator?.stop();
});

function event(logstore: string) {
  return {
    parameter: {}, jobName: JOB,
    source: {
      endpoint: emulator.endpoint, projectName: PROJECT, logstoreName: logstore, shardId: 0,
      beginCursor: emulator.cursor(PROJECT, logstore, 0, 'begin'), endCursor: emulator.cursor(PROJECT, logstore, 0, 'end'),
    },
  };
}

const ids = () => rsyslog.messages('tcp').map((m) => /^id=([^|]+)/.exec(m.msg)?.[1] ?? '?');

test('OUTPUT_MAX_EVENTS_PER_SECOND=200: 1 500 records take at least 7 s, arrive at no more than the rate, and all arrive', async (t) => {
  rsyslog.clear();
  const started = Date.now();
  const out = await invokeFunction({ SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp), OUTPUT_MAX_EVENTS_PER_SECOND: '200' }, event('small'));
  const seconds = (Date.now() - started) / 1000;
  assert.equal(out.error, null, out.error?.message);
  await rsyslog.waitForCount('tcp', small.size);
  const got = ids();
  const unique = new Set(got);
  t.diagnostic(`written ${small.size}, delivered ${unique.size}, lost ${small.size - unique.size}, duplicated ${got.length - unique.size}; ${seconds.toFixed(1)} s; throttled ${out.result!.throttledMs} ms`);
  assert.equal(unique.size, small.size, 'every record arrived');
  assert.ok(seconds >= 7, `took ${seconds} s`);
  assert.ok((out.result!.throttledMs as number) >= 6000, 'the summary says how long it waited');
});

test('a range that cannot finish at the rate before the deadline proves what it sent and fails; the retry resumes, nothing lost', async (t) => {
  rsyslog.clear();
  const fc = new FcInstance({ SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp), OUTPUT_MAX_EVENTS_PER_SECOND: '150', SYSLOG_COMMIT_BYTES: String(64 * 1024) });
  await fc.init();
  const attempts: Array<{ error: string | undefined; delivered: unknown; resumedFrom: unknown }> = [];
  try {
    for (let i = 0; i < 6; i++) {
      // 4 s of function timeout: at 150 records/s, 1 000 records need several invocations.
      const out = await fc.invoke(event('long'), undefined, 4);
      attempts.push({ error: out.error?.message.split('\n')[0], delivered: out.result?.delivered, resumedFrom: out.result?.resumedFrom });
      if (!out.error) break;
      assert.match(out.error.message, /rate limit \(OUTPUT_MAX_EVENTS_PER_SECOND/);
    }
  } finally {
    await fc.stop();
  }
  t.diagnostic(`attempts: ${JSON.stringify(attempts)}`);
  assert.ok(attempts.length >= 2, 'the limit made it take several invocations');
  assert.equal(attempts.at(-1)!.error, undefined, 'the last one finished the range');
  assert.ok(attempts.at(-1)!.resumedFrom, 'it resumed from where the proof of the previous one ended');
  await rsyslog.waitForCount('tcp', long.size);
  const got = ids();
  const unique = new Set(got);
  t.diagnostic(`written ${long.size}, delivered ${unique.size}, lost ${long.size - unique.size}, duplicated ${got.length - unique.size}`);
  assert.equal(unique.size, long.size, 'every record arrived');
});
