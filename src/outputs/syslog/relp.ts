/**
 * RELP (the Reliable Event Logging Protocol of rsyslog's imrelp/omrelp): every message is a
 * transaction the receiver acknowledges (`rsp 200`), so delivery is proven message by message and
 * a broken connection re-sends only what was not acknowledged. No maintained Node client exists
 * (docs/design.md); the protocol is small: `TXNR SP COMMAND SP DATALEN [SP DATA] LF`.
 */
import net from 'node:net';
import tls from 'node:tls';
import { SyslogError } from '../../errors';
import type { StreamTlsOptions } from './stream';
import { syslogErrorFrom } from './errors';
import { awaitPeerClose, boundedWait, type PartialProof, type Transport } from '../transport';

export interface RelpOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** Longest wait for window room (acknowledgements) before the receiver counts as stalled. */
  writeTimeoutMs: number;
  /** Longest wait for the last acknowledgements of a commit. */
  proofTimeoutMs: number;
  tls?: StreamTlsOptions | undefined;
  deadlineMs?: number | undefined;
}

/** Unacknowledged transactions at most (librelp's default window). */
const WINDOW = 128;
const WRITE_CHUNK = 64 * 1024;
const LF = 0x0a;
const SOFTWARE = 'sls-syslog-forwarder';
const MAX_TXNR = 999_999_999;

export class RelpTransport implements Transport, PartialProof {
  /** RELP acknowledges each message: what a broken connection had acknowledged is not sent again. */
  readonly partialProof: PartialProof = this;
  readonly target: string;
  readonly proof = 'ack' as const;
  readonly reusable = true;
  deadlineMs = Number.POSITIVE_INFINITY;
  /** Messages the receiver acknowledged on this connection. */
  private acknowledged = 0;
  private sent = 0;
  /** `sent` when the last successful commit was asked for: everything up to it is proven. */
  private provenSent = 0;
  private committed = false;
  /** Messages still to drop before sending (acknowledged on a connection that broke later), and those dropped. */
  private toSkip = 0;
  private skipped = 0;
  private txnr = 1;
  /** Frames are written straight into this chunk; a chunk handed to the socket is never reused. */
  private out: Buffer = Buffer.allocUnsafe(WRITE_CHUNK);
  private outBytes = 0;
  private input: Buffer = Buffer.alloc(0);
  private failure: SyslogError | undefined;
  private closing = false;
  private waiters: Array<() => void> = [];
  /** The tail of a frames chunk that held an incomplete octet-counted frame. */
  private partial: Buffer | undefined;
  private openAnswer: ((ok: boolean, text: string) => void) | undefined;

  private constructor(private readonly socket: net.Socket, private readonly options: RelpOptions) {
    this.target = `relp${options.tls ? '+tls' : ''}://${options.host}:${options.port}`;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.fail(syslogErrorFrom(err, this.target, this.closing ? 'close' : 'send')));
    socket.on('close', () => {
      if (!this.closing) this.fail(new SyslogError(`The RELP receiver at ${this.target} closed the connection; what it had not acknowledged is sent again.`));
      this.wake();
    });
  }

  get alive(): boolean {
    return !this.failure && !this.closing && !this.socket.destroyed;
  }

  static connect(options: RelpOptions): Promise<RelpTransport> {
    const target = `relp${options.tls ? '+tls' : ''}://${options.host}:${options.port}`;
    return new Promise((resolve, reject) => {
      const socket = options.tls
        ? tls.connect({
            host: options.host, port: options.port, ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key,
            passphrase: options.tls.passphrase, servername: options.tls.servername ?? (net.isIP(options.host) ? undefined : options.host),
            rejectUnauthorized: !options.tls.insecure, minVersion: options.tls.minVersion,
          })
        : net.connect({ host: options.host, port: options.port });
      const wait = boundedWait(options.connectTimeoutMs, options.deadlineMs ?? Number.POSITIVE_INFINITY);
      const fail = (err: SyslogError) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(
        () => fail(
          wait.byDeadline
            ? new SyslogError(`RELP connect to ${target} was not done when the invocation's time ran out.`, false, true)
            : syslogErrorFrom(Object.assign(new Error(`no RELP session within ${wait.ms} ms`), { code: 'ETIMEDOUT' }), target, 'connect'),
        ),
        wait.ms,
      );
      const onError = (err: NodeJS.ErrnoException) => fail(syslogErrorFrom(err, target, 'connect'));
      socket.once('error', onError);
      socket.once(options.tls ? 'secureConnect' : 'connect', () => {
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 30_000);
        const t = new RelpTransport(socket, options);
        socket.off('error', onError);
        t.openAnswer = (ok, text) => {
          clearTimeout(timer);
          if (ok) resolve(t);
          else fail(new SyslogError(`The RELP receiver at ${target} refused the session: ${text}. Check that it is an imrelp input.`, true));
        };
        t.frame('open', Buffer.from(`relp_version=0\nrelp_software=${SOFTWARE}\ncommands=syslog`));
        t.writeOut();
      });
    });
  }

  /** The next `count` messages given to send/sendFramed are dropped: the receiver already acknowledged them. */
  skip(count: number): void {
    this.toSkip += count;
  }

  /**
   * Messages after the last proof that the receiver acknowledged anyway (in order: RELP answers
   * transactions in sequence), counting those skipped as acknowledged earlier: after a break,
   * the next connection may skip this many of the messages it is given again.
   */
  acknowledgedBeyondProof(): number {
    return (this.committed ? 0 : this.skipped) + Math.max(0, this.acknowledged - this.provenSent);
  }

  send(message: Buffer): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (this.toSkip > 0) {
      this.toSkip--;
      this.skipped++;
      return undefined;
    }
    this.frame('syslog', message);
    this.sent++;
    const full = this.sent - this.acknowledged >= WINDOW;
    if (full || this.outBytes >= WRITE_CHUNK) this.writeOut();
    return full ? this.waitFor(() => this.sent - this.acknowledged < WINDOW, this.options.writeTimeoutMs, 'window') : undefined;
  }

  /** Octet-counted frames (`LEN SP MSG`) from the kernel, each re-wrapped as one RELP transaction. */
  async sendFramed(frames: Uint8Array): Promise<void> {
    let data = Buffer.from(frames.buffer, frames.byteOffset, frames.byteLength);
    if (this.partial) {
      data = Buffer.concat([this.partial, data]);
      this.partial = undefined;
    }
    let at = 0;
    while (at < data.length) {
      const space = data.indexOf(0x20, at);
      const length = space < 0 ? NaN : Number(data.toString('latin1', at, space));
      if (space < 0 || space + 1 + length > data.length) {
        this.partial = Buffer.from(data.subarray(at));
        break;
      }
      // send() copies the message into the output before it returns, so a view is enough here.
      const wait = this.send(data.subarray(space + 1, space + 1 + length));
      at = space + 1 + length;
      if (wait) await wait;
    }
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    this.writeOut();
  }

  /** Every message sent before the call is acknowledged. */
  async commit(): Promise<void> {
    this.writeOut();
    const target = this.sent;
    await this.waitFor(() => this.acknowledged >= target, this.options.proofTimeoutMs, 'proof');
    this.provenSent = Math.max(this.provenSent, target);
    this.committed = true;
  }

  async close(): Promise<void> {
    await this.commit();
    this.closing = true;
    this.frame('close', Buffer.alloc(0));
    this.writeOut();
    await awaitPeerClose(this.socket, boundedWait(this.options.proofTimeoutMs, this.deadlineMs).ms);
  }

  destroy(): void {
    this.closing = true;
    this.socket.destroy();
    this.wake();
  }

  private frame(command: string, data: Buffer): void {
    const txnr = this.txnr;
    this.txnr = txnr >= MAX_TXNR ? 1 : txnr + 1;
    const head = data.length > 0 ? `${txnr} ${command} ${data.length} ` : `${txnr} ${command} 0`;
    const room = head.length + data.length + 1;
    if (this.outBytes + room > this.out.length) {
      this.writeOut();
      if (room > this.out.length) this.out = Buffer.allocUnsafe(room);
    }
    // The one copy of the message: straight into the chunk that goes to the socket.
    this.outBytes += this.out.write(head, this.outBytes, 'latin1');
    this.outBytes += data.copy(this.out, this.outBytes);
    this.out[this.outBytes++] = LF;
  }

  private writeOut(): void {
    if (this.outBytes === 0 || this.socket.destroyed) return;
    const chunk = this.out.subarray(0, this.outBytes);
    this.out = Buffer.allocUnsafe(WRITE_CHUNK);
    this.outBytes = 0;
    this.socket.write(chunk);
  }

  private receive(chunk: Buffer): void {
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
    for (;;) {
      const first = this.input.indexOf(0x20);
      const second = first < 0 ? -1 : this.input.indexOf(0x20, first + 1);
      if (second < 0) break;
      const command = this.input.toString('latin1', first + 1, second);
      // DATALEN ends at a space (data follows) or at the trailer (no data).
      let end = second + 1;
      while (end < this.input.length && this.input[end]! >= 0x30 && this.input[end]! <= 0x39) end++;
      if (end >= this.input.length) break;
      const length = Number(this.input.toString('latin1', second + 1, end));
      const dataStart = length > 0 ? end + 1 : end;
      if (dataStart + length >= this.input.length) break;
      const data = this.input.toString('utf8', dataStart, dataStart + length);
      if (this.input[dataStart + length] !== LF) {
        this.fail(new SyslogError(`The RELP receiver at ${this.target} sent a malformed frame; the connection is replaced.`));
        return;
      }
      this.input = this.input.subarray(dataStart + length + 1);
      this.answer(command, data);
    }
  }

  private answer(command: string, data: string): void {
    if (command === 'serverclose') {
      this.fail(new SyslogError(`The RELP receiver at ${this.target} is shutting down (serverclose); what it had not acknowledged is sent again.`));
      return;
    }
    if (command !== 'rsp') return;
    const ok = data.startsWith('200');
    if (this.openAnswer) {
      const answer = this.openAnswer;
      this.openAnswer = undefined;
      answer(ok, data.split('\n')[0] ?? data);
      return;
    }
    if (this.closing && data === '') return; // the answer to our close
    if (!ok) {
      this.fail(new SyslogError(`The RELP receiver at ${this.target} refused a message: "${data.split('\n')[0]}". It is sent again on a new connection.`));
      return;
    }
    this.acknowledged++;
    this.wake();
  }

  private fail(err: SyslogError): void {
    this.failure ??= err;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private waitFor(ready: () => boolean, limitMs: number, what: 'window' | 'proof'): Promise<void> {
    const wait = boundedWait(limitMs, this.deadlineMs);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.failure ??= new SyslogError(
          `The RELP receiver at ${this.target} did not acknowledge ${this.sent - this.acknowledged} message(s) within ${wait.ms} ms` +
            (wait.byDeadline ? " (the invocation's time ran out)" : what === 'proof' ? ' (SYSLOG_PROOF_TIMEOUT_MS)' : ' (SYSLOG_WRITE_TIMEOUT_MS)') +
            ': they are sent again. Check that the SIEM is keeping up.',
          false, wait.byDeadline,
        );
        this.socket.destroy();
        reject(this.failure);
      }, wait.ms);
      const check = () => {
        if (this.failure) {
          clearTimeout(timer);
          reject(this.failure);
        } else if (ready()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }
}
