/**
 * UDP with the kernel: octet-counted frames become one datagram per message, exactly the message
 * bytes (no prefix), for lengths of 1 to 5 digits, across several sendFramed calls; a bound on
 * datagrams in flight is kept. A real UDP socket on 127.0.0.1 receives them.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { UdpTransport } from '../src/outputs/syslog/udp';

test('sendFramed sends each octet-counted message as its own datagram, byte for byte', async () => {
  const receiver = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  receiver.on('message', (m) => got.push(m));
  await new Promise<void>((r) => receiver.bind(0, '127.0.0.1', r));
  const transport = await UdpTransport.connect('127.0.0.1', receiver.address().port);
  try {
    const lengths = [1, 9, 10, 99, 100, 999, 1000, 9999, 10_000, 2048, 7, 500];
    const messages = lengths.map((n, i) => Buffer.from(`<14>1 m${i} `.padEnd(n, String.fromCharCode(97 + (i % 26))).slice(0, n)));
    const frame = (m: Buffer) => Buffer.concat([Buffer.from(`${m.length} `), m]);
    // Three calls; each frames buffer is overwritten right after the call, as the kernel's output area is.
    for (const part of [messages.slice(0, 4), messages.slice(4, 9), messages.slice(9)]) {
      const frames = Buffer.concat(part.map(frame));
      const wait = transport.sendFramed(frames);
      frames.fill(0x21);
      if (wait) await wait;
    }
    await transport.flush();
    const deadline = Date.now() + 5000;
    while (got.length < messages.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(got.length, messages.length);
    got.forEach((m, i) => assert.ok(m.equals(messages[i]!), `datagram ${i}: ${m.length} bytes, want ${messages[i]!.length}`));
  } finally {
    await transport.close();
    receiver.close();
  }
});
