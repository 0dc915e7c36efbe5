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
