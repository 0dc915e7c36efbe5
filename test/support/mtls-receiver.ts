/**
 * A syslog-over-TLS receiver (RFC 5425, octet-counting) on 127.0.0.1 that requires a client
 * certificate signed by the CA it is given, and can switch to another CA while running (the SIEM
 * side of a client-certificate rotation). It reads to the end of each stream and then closes its
 * side, which is the close proof the forwarder waits for.
 */
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';

export class MtlsReceiver {
  readonly messages: string[] = [];
  /** Handshakes refused (no or an untrusted client certificate). */
  refused = 0;
  private server: tls.Server | undefined;
  private readonly sockets = new Set<tls.TLSSocket>();

  constructor(private readonly options: { key: string; cert: string; clientCa: string }) {}

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  async start(): Promise<this> {
    const { key, cert, clientCa } = this.options;
    this.server = tls.createServer({ key, cert, ca: clientCa, requestCert: true, rejectUnauthorized: true }, (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      let pending = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        for (;;) {
          const space = pending.indexOf(0x20);
          if (space < 0) break;
          const length = Number(pending.subarray(0, space).toString('ascii'));
          if (pending.length < space + 1 + length) break;
          this.messages.push(pending.subarray(space + 1, space + 1 + length).toString('utf8'));
          pending = pending.subarray(space + 1 + length);
        }
      });
      socket.on('error', () => {});
    });
    this.server.on('tlsClientError', () => this.refused++);
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return this;
  }

  /** From now on only client certificates signed by this CA are accepted. */
  trustOnly(clientCa: string): void {
    this.server!.setSecureContext({ key: this.options.key, cert: this.options.cert, ca: clientCa });
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
