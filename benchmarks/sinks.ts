/** Fast local receivers that only count: TCP, TLS, UDP and a Splunk HEC endpoint, on 127.0.0.1. */
import dgram from 'node:dgram';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

export interface Sink {
  port: number;
  bytes(): number;
  /** When the last byte was read (ms since the epoch); stream sinks only. */
  lastDataAt?(): number;
  close(): Promise<void>;
}

export async function tcpSink(options?: { key: string; cert: string }): Promise<Sink> {
  let bytes = 0;
  let last = 0;
  const onConn = (s: net.Socket) =>
    s.on('data', (c: Buffer) => {
      bytes += c.length;
      last = Date.now();
    }).on('error', () => {});
  const server = options ? tls.createServer({ key: options.key, cert: options.cert }, onConn) : net.createServer(onConn);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    bytes: () => bytes,
    lastDataAt: () => last,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export async function udpSink(): Promise<Sink> {
  let bytes = 0;
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 64 * 1024 * 1024 });
  socket.on('message', (m) => (bytes += m.length));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { port: socket.address().port, bytes: () => bytes, close: () => new Promise((r) => socket.close(() => r())) };
}

/** HTTPS answering HEC's health check and event posts with success, counting body bytes (gzip'd, not opened). */
export async function hecSink(options: { key: string; cert: string }): Promise<Sink> {
  let bytes = 0;
  const server = https.createServer({ key: options.key, cert: options.cert }, (req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.method === 'GET' ? '{"text":"HEC is healthy","code":17}' : '{"text":"Success","code":0}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    bytes: () => bytes,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/**
 * A TCP relay in front of a sink that holds every chunk, and the close, `delayMs` in each
 * direction: a receiver `2 x delayMs` of round trip away, for what commit points cost with latency.
 * (The TCP handshake with the relay itself is local; a TLS handshake crosses it, with its delays.)
 */
export async function latencyRelay(targetPort: number, delayMs: number): Promise<Sink> {
  let bytes = 0;
  const later = (fn: () => void) => setTimeout(fn, delayMs);
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ port: targetPort, host: '127.0.0.1', allowHalfOpen: true });
    client.on('data', (c: Buffer) => {
      bytes += c.length;
      later(() => upstream.write(c));
    });
    upstream.on('data', (c: Buffer) => later(() => client.write(c)));
    client.on('end', () => later(() => upstream.end()));
    upstream.on('end', () => later(() => client.end()));
    const drop = () => later(() => (client.destroy(), upstream.destroy()));
    client.on('error', drop);
    upstream.on('error', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    bytes: () => bytes,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
