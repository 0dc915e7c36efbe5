/** Fast local receivers that only count: TCP, TLS, UDP and a Splunk HEC endpoint, on 127.0.0.1. */
import dgram from 'node:dgram';
import https from 'node:https';
import type net from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

export interface Sink {
  port: number;
  bytes(): number;
  /** When the last byte was read (ms since the epoch); stream sinks only. */
  lastDataAt?(): number;
  close(): Promise<void>;
}

/** A TCP receiver, or TLS with `options`, in a thread of its own (`stream-thread.cjs`). */
export function tcpSink(options?: { key: string; cert: string }): Promise<Sink> {
  return streamThread(options ? { tls: options } : {});
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
 * In a thread of its own, like the receivers.
 */
export function latencyRelay(targetPort: number, delayMs: number): Promise<Sink> {
  return streamThread({ relayTo: { port: targetPort, delayMs } });
}

/** Counters shared with the stream threads: two numbers per thread (bytes, last read). */
const shared = new SharedArrayBuffer(8 * 2 * 16);
const counters = new Float64Array(shared);
let nextSlot = 0;

/**
 * A TCP or TLS receiver (`tls`), or a latency relay (`relayTo`), in a thread of its own, so that
 * its reads, handshakes and closes do not wait behind the SLS emulator in the runner's event loop.
 */
export async function streamThread(options: { tls?: { key: string; cert: string }; relayTo?: { port: number; delayMs: number } }): Promise<Sink> {
  const slot = (nextSlot += 2) - 2;
  const worker = new Worker(join(__dirname, 'stream-thread.cjs'), {
    workerData: {
      kind: options.relayTo ? 'relay' : 'receiver', slot, counters: shared,
      key: options.tls?.key, cert: options.tls?.cert, targetPort: options.relayTo?.port, delayMs: options.relayTo?.delayMs,
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: { port: number }) => resolve(m.port));
    worker.once('error', reject);
  });
  return {
    port,
    bytes: () => counters[slot]!,
    lastDataAt: () => counters[slot + 1]!,
    close: async () => {
      worker.postMessage('close');
      await new Promise((r) => worker.once('exit', r));
    },
  };
}
