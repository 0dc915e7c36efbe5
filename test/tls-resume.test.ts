/**
 * Each close-proven commit segment is a new TLS connection: after the first, they resume the
 * session (no certificate exchange for the receiver or for us), and a receiver's certificate is
 * still verified on every fresh handshake.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { StreamTransport, type StreamOptions } from '../src/outputs/syslog/stream';
import { makeTestPki, type TestPki } from './support/certs';
import { FcInstance, startEmulator } from './support/fc-invoke';
import { encodeLogGroup } from './support/log-group-writer';

let pki: TestPki;
let server: tls.Server;
const sessions: boolean[] = [];
let received = '';

before(async () => {
  pki = makeTestPki();
  server = tls.createServer({ key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) }, (socket) => {
    sessions.push(socket.isSessionReused());
    socket.on('data', (c: Buffer) => (received += c.toString()));
    socket.on('end', () => socket.end()); // the proof: our close answered once everything was read
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});

after(() => new Promise<void>((r) => server.close(() => r())));

const options = (ca: string): StreamOptions => ({
  host: '127.0.0.1', port: (server.address() as AddressInfo).port, framing: 'newline', connectTimeoutMs: 5000, writeTimeoutMs: 5000,
  proof: 'close', proofTimeoutMs: 5000,
  tls: { ca, cert: undefined, key: undefined, passphrase: undefined, servername: 'localhost', minVersion: 'TLSv1.2', insecure: false },
});

test('segments after the first resume the TLS session, every one proven; a wrong CA still fails its fresh handshake', async () => {
  const ca = readFileSync(pki.caFile, 'utf8');
  for (let i = 0; i < 4; i++) {
    const t = await StreamTransport.connect(options(ca));
    t.send(Buffer.from(`segment ${i}`));
    await t.commit();
  }
  assert.equal(sessions.length, 4);
  assert.equal(sessions[0], false, 'the first connection is a full handshake');
  assert.deepEqual(sessions.slice(1), [true, true, true], 'the next ones resume');
  for (let i = 0; i < 4; i++) assert.ok(received.includes(`segment ${i}\n`));
  // Another CA: a different context, no ticket to resume with, and the certificate is refused.
  await assert.rejects(StreamTransport.connect(options(readFileSync(pki.otherCaFile, 'utf8'))), /certificate|self.signed|unable to verify/i);
});

test('a range of many segments: connections opened ahead only as the pace needs (not one per proof in flight), sessions resumed, 0 lost', async (t) => {
  const emulator = await startEmulator();
  const fc = new FcInstance({
    SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String((server.address() as AddressInfo).port), SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_CA_FILE: pki.caFile,
    SYSLOG_COMMIT_BYTES: '65536', SYSLOG_PROOFS_IN_FLIGHT: '4', SLS_PULL_COUNT: '2',
  });
  try {
    emulator.createLogstore('resume', 'segments', 1);
    const written = 4000;
    for (let g = 0; g < written / 100; g++) {
      const logs = Array.from({ length: 100 }, (_, i) => ({ time: 1737669036, contents: [['id', `seg-${g * 100 + i}`], ['pad', 'p'.repeat(400)]] as Array<[string, string]> }));
      emulator.appendGroup('resume', 'segments', 0, encodeLogGroup({ logs }));
    }
    sessions.length = 0;
    received = '';
    // A segment per pull, and a pull every 20 ms: a connection opened ahead is ready in time.
    emulator.pullDelayMs = 20;
    await fc.init();
    const out = await fc.invoke({
      source: {
        endpoint: emulator.endpoint, projectName: 'resume', logstoreName: 'segments', shardId: 0,
        beginCursor: emulator.cursor('resume', 'segments', 0, 'begin'), endCursor: emulator.cursor('resume', 'segments', 0, 'end'),
      },
    });
    assert.equal(out.error, null, out.error?.message);
    const ids = received.match(/seg-\d+/g) ?? [];
    const delivered = new Set(ids).size;
    t.diagnostic(`records: written ${written}, delivered ${delivered}, lost ${written - delivered}, duplicated ${ids.length - delivered}`);
    assert.equal(delivered, written, 'no record lost');
    const commits = out.result!.commits as number;
    const resumed = sessions.filter(Boolean).length;
    t.diagnostic(`${commits} segments, ${sessions.length} connections, ${resumed} resumed`);
    assert.ok(commits >= 20, `many segments (${commits})`);
    // One per segment, plus what was opened ahead and not used; opening one ahead per proof in
    // flight from the start would waste up to 4 handshakes per range (one is kept for the next).
    assert.ok(sessions.length <= commits + 2, `${sessions.length} connections for ${commits} segments`);
    assert.ok(resumed >= sessions.length - 2, `${resumed} of ${sessions.length} resumed`);
  } finally {
    await fc.stop().catch(() => fc.kill());
    await emulator.stop();
  }
});
