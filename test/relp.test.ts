/**
 * RelpTransport's accounting of what was acknowledged after the last proof: after a break, the
 * next connection skips exactly that many of the re-sent messages, so over-counting loses records.
 * A small RELP peer on 127.0.0.1 answers the first `ackLimit` messages, then cuts the connection.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { RelpTransport } from '../src/outputs/syslog/relp';

interface Peer { port: number; received: string[]; setAckLimit(n: number): void; close(): Promise<void> }

async function relpPeer(ackLimit: number): Promise<Peer> {
  const received: string[] = [];
  let limit = ackLimit;
  const server = net.createServer((socket) => {
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const m = /^(\d+) (\w+) (\d+)[ \n]/.exec(buffer.toString('latin1', 0, Math.min(buffer.length, 40)));
        if (!m) return;
        const length = Number(m[3]);
        const start = m[0].endsWith(' ') && length > 0 ? m[0].length : m[0].length - 1;
        if (buffer.length < start + length + 1) return;
        const data = buffer.toString('utf8', start, start + length);
        buffer = buffer.subarray(start + length + 1);
        if (m[2] === 'open') socket.write(`${m[1]} rsp 6 200 OK\n`);
        else if (m[2] === 'syslog') {
          received.push(data);
          if (received.length > limit) return void socket.destroy();
          socket.write(`${m[1]} rsp 6 200 OK\n`);
        }
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port, received, setAckLimit: (n) => (limit = n),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const connect = (port: number) => RelpTransport.connect({ host: '127.0.0.1', port, connectTimeoutMs: 2000, writeTimeoutMs: 2000, proofTimeoutMs: 1000 });
const until = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
};

test('acknowledgedBeyondProof counts only acknowledgements after the last successful commit, plus skips before the first', async () => {
  const peer = await relpPeer(13);
  try {
    const first = await connect(peer.port);
    for (let i = 0; i < 10; i++) first.send(Buffer.from(`m${i}`));
    await first.commit(); // all 10 acknowledged: the proof
    assert.equal(first.acknowledgedBeyondProof(), 0);
    for (let i = 10; i < 15; i++) first.send(Buffer.from(`m${i}`));
    await first.flush();
    await assert.rejects(first.commit(), /closed the connection|did not acknowledge/);
    assert.equal(first.acknowledgedBeyondProof(), 3, 'm10-m12 were acknowledged after the proof; m13 was not');

    // The retry gives m10.. again; the first 3 are skipped, the rest sent.
    peer.setAckLimit(15);
    const second = await connect(peer.port);
    second.skip(3);
    for (let i = 10; i < 15; i++) second.send(Buffer.from(`m${i}`));
    await second.flush();
    await until(() => peer.received.length >= 16);
    assert.deepEqual(peer.received.slice(13), ['m13', 'm13', 'm14'], 'the first connection cut at m13; the second skipped m10-m12 and sent m13 and m14');
    // Cut before any commit: the skips still count as acknowledged, plus the one acknowledgement.
    await assert.rejects(second.commit(), /closed the connection|did not acknowledge/);
    assert.equal(second.acknowledgedBeyondProof(), 3 + 1);
  } finally {
    await peer.close();
  }
});
