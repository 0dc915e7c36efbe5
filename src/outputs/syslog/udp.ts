/**
 * Syslog over UDP (RFC 5426): one message per datagram, no framing. The socket is connected so
 * ICMP "port unreachable" comes back as an error instead of vanishing, and at most
 * MAX_IN_FLIGHT datagrams wait in libuv's queue, so a large range cannot pile up in memory.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { syslogErrorFrom } from './errors';
import type { SyslogError } from '../../errors';
import type { Transport } from '../transport';

const MAX_IN_FLIGHT = 64;
/** sendFramed's chunks: one kernel step for UDP (32 KiB of frames) fits, with room for a long message. */
const CHUNK_BYTES = 64 * 1024;
const CHUNK_POOL = 4;

export class UdpTransport implements Transport {
  readonly target: string;
  private inFlight = 0;
  private failure: SyslogError | undefined;
  private waiters: Array<() => void> = [];
  private closed = false;
  private readonly chunks: Buffer[] = [];

  private constructor(private readonly socket: dgram.Socket, host: string, port: number) {
    this.target = `udp://${host}:${port}`;
    socket.on('error', (err) => {
      this.failure ??= syslogErrorFrom(err, this.target, 'send');
      this.wake();
    });
  }

  get alive(): boolean {
    return !this.failure && !this.closed;
  }

  static connect(host: string, port: number): Promise<UdpTransport> {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        socket.close();
        reject(syslogErrorFrom(err, `udp://${host}:${port}`, 'connect'));
      };
      socket.once('error', onError);
      socket.connect(port, host, () => {
        socket.off('error', onError);
        resolve(new UdpTransport(socket, host, port));
      });
    });
  }

  /** The message is copied, so the caller may reuse its buffer when this returns. */
  send(message: Buffer): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    this.inFlight++;
    this.socket.send(Buffer.from(message), (err) => {
      this.inFlight--;
      if (err) this.failure ??= syslogErrorFrom(err, this.target, 'send');
      this.wake();
    });
    return this.inFlight >= MAX_IN_FLIGHT ? this.waitBelow(MAX_IN_FLIGHT) : undefined;
  }

  /**
   * Messages framed with octet-counting by the kernel (`LEN SP MSG`...): copied once into a pooled
   * chunk, then one datagram per message, each a view of the chunk (no copy per message).
   */
  sendFramed(frames: Uint8Array): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    const chunk = frames.length <= CHUNK_BYTES ? (this.chunks.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES)) : Buffer.allocUnsafe(frames.length);
    chunk.set(frames);
    let pending = 0;
    const sent = (err: Error | null) => {
      this.inFlight--;
      if (err) this.failure ??= syslogErrorFrom(err, this.target, 'send');
      if (--pending === 0 && chunk.length === CHUNK_BYTES && this.chunks.length < CHUNK_POOL) this.chunks.push(chunk);
      this.wake();
    };
    for (let p = 0; p < frames.length; ) {
      let length = 0;
      for (let b = chunk[p++]!; b !== 0x20; b = chunk[p++]!) length = length * 10 + (b - 0x30);
      pending++;
      this.inFlight++;
      this.socket.send(chunk.subarray(p, p + length), sent);
      p += length;
    }
    return this.inFlight >= MAX_IN_FLIGHT ? this.waitBelow(MAX_IN_FLIGHT) : undefined;
  }

  /** UDP has no acknowledgement: a commit only means every datagram was handed to the kernel. */
  readonly proof = 'none' as const;
  readonly reusable = true;
  deadlineMs = Number.POSITIVE_INFINITY;

  commit(): Promise<void> {
    return this.flush();
  }

  async flush(): Promise<void> {
    await this.waitBelow(1);
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  destroy(): void {
    this.closed = true;
    try {
      this.socket.close();
    } catch {
      /* already closed */
    }
  }

  private waitBelow(limit: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.failure) reject(this.failure);
        else if (this.inFlight < limit) resolve();
        else this.waiters.push(check);
      };
      check();
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
