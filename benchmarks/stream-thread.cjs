// A stream receiver (TCP, or TLS with `key`/`cert`) or a latency relay, in a thread of its own:
// its reads, handshakes and closes never queue behind the SLS emulator's work in the runner's
// event loop (a SIEM and the network path do not share a CPU queue with SLS). It counts into
// memory the runner shares: counters[slot] = bytes read, counters[slot + 1] = when the last byte
// was read (epoch ms).
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const tls = require('node:tls');

const { kind, slot, key, cert, targetPort, delayMs } = workerData;
const counters = new Float64Array(workerData.counters);
const count = (n) => {
  counters[slot] += n;
  counters[slot + 1] = Date.now();
};

function receiver() {
  const onConn = (s) => s.on('data', (c) => count(c.length)).on('error', () => {});
  return key ? tls.createServer({ key, cert }, onConn) : net.createServer(onConn);
}

// Holds every chunk, and the close, `delayMs` in each direction: a receiver 2 x delayMs away.
function relay() {
  const later = (fn) => setTimeout(fn, delayMs);
  return net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ port: targetPort, host: '127.0.0.1', allowHalfOpen: true });
    client.on('data', (c) => {
      count(c.length);
      later(() => upstream.write(c));
    });
    upstream.on('data', (c) => later(() => client.write(c)));
    client.on('end', () => later(() => upstream.end()));
    upstream.on('end', () => later(() => client.end()));
    const drop = () => later(() => (client.destroy(), upstream.destroy()));
    client.on('error', drop);
    upstream.on('error', drop);
  });
}

const server = kind === 'relay' ? relay() : receiver();
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => {
  if (m === 'close') server.close(() => process.exit(0));
});
