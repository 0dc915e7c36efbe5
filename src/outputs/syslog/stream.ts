/**
 * Syslog over TCP or TLS (RFC 6587 framing, RFC 5425). Written here rather than taken from
 * `syslog-client`, which has no TLS, no octet-counting and ignores socket back-pressure
 * (docs/design.md). Messages are framed and batched into ~64 KB writes; when the kernel buffer
 * is full, `send` returns a promise that settles on 'drain', so memory stays bounded.
 */
import net from 'node:net';
import tls from 'node:tls';
import { SyslogError } from '../../errors';
import type { StreamFraming as Framing } from './settings';
import type { TlsSettings } from './tls-settings';
import { frameInto, maxFramedLength } from './framing';
import { CLOSED_IN_HANDSHAKE, syslogErrorFrom } from './errors';
import { tlsStateFor } from './tls-contexts';
import { awaitPeerClose, boundedWait, type ProofKind, type Transport } from '../transport';

export interface StreamOptions {
  host: string;
  port: number;
  framing: Framing;
  connectTimeoutMs: number;
  /** How long a write may wait for the receiver to read before the connection counts as stalled. */
  writeTimeoutMs: number;
  tls?: StreamTlsOptions | undefined;
  /** `close`: commit() waits for the receiver to answer our orderly close; `none`: only flushes. */
  proof: 'close' | 'none';
  proofTimeoutMs: number;
  /** Epoch ms the connect (and TLS handshake) may not pass. */
  deadlineMs?: number | undefined;
}

/** The TLS settings a connection uses (the CA's description is only for messages). */
export type StreamTlsOptions = Omit<TlsSettings, 'caSource'>;

/**
 * In TLS 1.3 the server judges the client certificate after the client's handshake is done, so a
 * rejection arrives just after 'secureConnect'. Wait this long for the server's first session
 * ticket (sent once it accepted us) or its alert before treating the connection as usable.
 */
const TLS13_ACCEPT_WAIT_MS = 250;

const BATCH_BYTES = 256 * 1024;
const POOL_SIZE = 8;

export class StreamTransport implements Transport {
  readonly target: string;
  private readonly pool: Buffer[] = [];
  /** Frames are written straight into this buffer; it goes to the socket whole when full. */
  private batch: Buffer = Buffer.allocUnsafe(BATCH_BYTES);
  private batchPos = 0;
  private failure: SyslogError | undefined;
  private closing = false;
  /** The receiver closed its side in order (FIN, after TLS close_notify): it read everything. */
  private peerEnded = false;
  readonly proof: ProofKind;
  readonly reusable: boolean;
  deadlineMs = Number.POSITIVE_INFINITY;

  private constructor(private readonly socket: net.Socket, private readonly options: StreamOptions) {
    this.target = `${options.tls ? 'tls' : 'tcp'}://${options.host}:${options.port}`;
    this.proof = options.proof;
    this.reusable = options.proof === 'none';
    socket.on('end', () => (this.peerEnded = true));
    socket.on('error', (err) => {
      this.failure ??= syslogErrorFrom(err, this.target, this.closing ? 'close' : 'send');
    });
    socket.on('close', () => {
      if (!this.closing) this.failure ??= new SyslogError(`The receiver at ${this.target} closed the connection before all records were sent: what it had not proven is sent again.`);
    });
  }

  get alive(): boolean {
    return !this.failure && !this.closing && !this.socket.destroyed;
  }

  /** TLS: the receiver's certificate (for `check`: its expiry); undefined over plain TCP. */
  peerCertificate(): tls.PeerCertificate | undefined {
    return this.options.tls ? (this.socket as tls.TLSSocket).getPeerCertificate() : undefined;
  }

  static connect(options: StreamOptions): Promise<StreamTransport> {
    const target = `${options.tls ? 'tls' : 'tcp'}://${options.host}:${options.port}`;
    return new Promise((resolve, reject) => {
      const servername = options.tls ? options.tls.servername ?? (net.isIP(options.host) ? undefined : options.host) : undefined;
      const state = options.tls ? tlsStateFor(options.tls) : undefined;
      const receiver = `${options.host}:${options.port}:${servername ?? ''}`;
      const socket = options.tls
        ? tls.connect({
            host: options.host,
            port: options.port,
            secureContext: state!.context,
            servername,
            rejectUnauthorized: !options.tls.insecure,
            // Resumed, a connection skips the certificate exchange (each commit segment is a new one).
            session: state!.tickets.get(receiver),
          })
        : net.connect({ host: options.host, port: options.port });
      if (state) (socket as tls.TLSSocket).on('session', (ticket: Buffer) => state.tickets.set(receiver, ticket));
      const wait = boundedWait(options.connectTimeoutMs, options.deadlineMs ?? Number.POSITIVE_INFINITY);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          wait.byDeadline
            ? new SyslogError(`Syslog connect to ${target} was not done when the invocation's time ran out (${wait.ms} ms left). Nothing more was sent.`, false, true)
            : syslogErrorFrom(Object.assign(new Error(`no connection within ${options.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' }), target, 'connect'),
        );
      }, wait.ms);
      const onError = (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        reject(syslogErrorFrom(err, target, 'connect'));
      };
      socket.once('error', onError);
      const ready = () => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.off('close', onEarlyClose);
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 30_000);
        resolve(new StreamTransport(socket, options));
      };
      const onEarlyClose = () => onError(Object.assign(new Error('the receiver closed the connection during the TLS handshake (client certificate rejected?)'), { code: CLOSED_IN_HANDSHAKE }));
      socket.once(options.tls ? 'secureConnect' : 'connect', () => {
        const tlsSocket = socket as tls.TLSSocket;
        // A resumed session's certificate was accepted before: no rejection can follow.
        if (options.tls && tlsSocket.getProtocol() === 'TLSv1.3' && !tlsSocket.isSessionReused()) {
          socket.once('close', onEarlyClose);
          const wait = setTimeout(ready, TLS13_ACCEPT_WAIT_MS);
          tlsSocket.once('session', () => {
            clearTimeout(wait);
            // Not from inside the session callback: Node runs it within OpenSSL's read of the
            // ticket, and a write started there (our first batch, via the resolved promise) is
            // sealed with the wrong record state: the receiver answers "bad record mac"
            // (measured with rsyslog's ossl driver and a write right after connect).
            setImmediate(ready);
          });
          socket.once('error', () => clearTimeout(wait));
        } else ready();
      });
    });
  }

  /** The message is copied (framed) at once, so the caller may reuse its buffer when this returns. */
  send(message: Buffer): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    const room = maxFramedLength(this.options.framing, message.length);
    let wait: Promise<void> | undefined;
    if (this.batchPos + room > this.batch.length) {
      wait = this.writeBatch();
      if (room > this.batch.length) this.batch = Buffer.allocUnsafe(room);
    }
    this.batchPos = frameInto(this.options.framing, message, this.batch, this.batchPos);
    return wait;
  }

  /** Frames written by the kernel with this connection's framing; copied at once. */
  sendFramed(frames: Uint8Array): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    let wait: Promise<void> | undefined;
    // A byte stream: frames may straddle two socket writes, so fill each batch buffer to the brim.
    for (let off = 0; off < frames.length; ) {
      const n = Math.min(frames.length - off, this.batch.length - this.batchPos);
      this.batch.set(n === frames.length ? frames : frames.subarray(off, off + n), this.batchPos);
      this.batchPos += n;
      off += n;
      if (this.batchPos === this.batch.length) wait = this.writeBatch() ?? wait;
    }
    return wait;
  }

  async flush(): Promise<void> {
    await this.writeBatch();
    if (this.failure) throw this.failure;
    // An empty write's callback fires once everything queued before it has reached the kernel;
    // a receiver that stopped reading holds it back, so it has the same bound as any write.
    await new Promise<void>((resolve, reject) => {
      const wait = boundedWait(this.options.writeTimeoutMs, this.deadlineMs);
      const timer = setTimeout(() => reject(this.stalled(wait)), wait.ms);
      this.socket.write(Buffer.alloc(0), (err) => {
        clearTimeout(timer);
        if (err) reject(this.failure ?? syslogErrorFrom(err, this.target, 'send'));
        else resolve();
      });
    });
    if (this.failure) throw this.failure;
  }

  /**
   * The proof of delivery: after our orderly close (close_notify, FIN) the receiver reads to the
   * end of the stream and closes its side. Its FIN means it read every byte; a reset, or no answer
   * within the proof timeout (a stalled receiver), means the bytes are not known to have arrived.
   */
  async commit(): Promise<void> {
    if (this.proof === 'none') return this.flush();
    await this.flush();
    this.closing = true;
    const wait = boundedWait(this.options.proofTimeoutMs, this.deadlineMs);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
        reject(
          new SyslogError(
            `No proof of delivery from ${this.target}: it did not answer our close within ${wait.ms} ms` +
              (wait.byDeadline ? " (the invocation's time ran out)" : ' (SYSLOG_PROOF_TIMEOUT_MS)') +
              ', so the receiver is not known to have read the last segment. It is sent again; check that the SIEM is keeping up.',
            false, wait.byDeadline,
          ),
        );
      }, wait.ms);
      this.socket.once('close', () => {
        clearTimeout(timer);
        if (this.peerEnded && !this.failure) resolve();
        else
          reject(
            this.failure ??
              new SyslogError(`No proof of delivery from ${this.target}: the connection ended without the receiver's orderly close. The last segment is sent again.`),
          );
      });
      // end() sends TLS close_notify before FIN; the receiver answers once it has read everything.
      this.socket.end();
    });
  }

  /** Closes gracefully; with `proof: close` this is the commit, otherwise a flush and a short wait for the peer. */
  async close(): Promise<void> {
    if (this.proof === 'close') return this.commit();
    await this.flush();
    this.closing = true;
    const closed = awaitPeerClose(this.socket, boundedWait(this.options.proofTimeoutMs, this.deadlineMs).ms);
    this.socket.end();
    await closed;
    if (this.failure) throw this.failure;
  }

  destroy(): void {
    this.closing = true;
    this.socket.destroy();
  }

  private writeBatch(): Promise<void> | undefined {
    if (this.batchPos === 0) return undefined;
    const full = this.batch;
    const data = full.subarray(0, this.batchPos);
    // The socket keeps `data` until it is sent: the next frames go to another buffer, and this
    // one returns to the pool once written (reusing them keeps memory flat).
    this.batch = this.pool.pop() ?? Buffer.allocUnsafe(BATCH_BYTES);
    this.batchPos = 0;
    const ok = this.socket.write(data, (err) => {
      if (!err && full.length === BATCH_BYTES && this.pool.length < POOL_SIZE) this.pool.push(full);
    });
    return ok ? undefined : this.waitForDrain();
  }

  /** A write that waited its limit: the connection is dropped, and nothing on it counts as delivered. */
  private stalled(wait: { ms: number; byDeadline: boolean }): SyslogError {
    this.failure ??= wait.byDeadline
      ? new SyslogError(
          `The receiver at ${this.target} was not reading when the invocation's time ran out (a write waited ${wait.ms} ms). ` +
            'What it had not proven is sent again by the retry; check the SIEM is keeping up.',
          false, true,
        )
      : new SyslogError(
          `The receiver at ${this.target} stopped reading: a write waited ${this.options.writeTimeoutMs} ms. ` +
            'Check the SIEM is healthy; what it had not proven is sent again.',
        );
    this.socket.destroy();
    return this.failure;
  }

  private waitForDrain(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (err?: SyslogError) => {
        clearTimeout(timer);
        this.socket.off('drain', onDrain);
        this.socket.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(this.failure ?? new SyslogError(`Connection to ${this.target} closed while sending.`));
      const wait = boundedWait(this.options.writeTimeoutMs, this.deadlineMs);
      const timer = setTimeout(() => done(this.stalled(wait)), wait.ms);
      this.socket.on('drain', onDrain);
      this.socket.on('close', onClose);
    });
  }
}
