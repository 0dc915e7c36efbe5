/**
 * TLS state shared by the connections of one set of TLS settings: the secure context (CA, client
 * certificate and key parsed once, not per connection) and the latest session ticket per receiver.
 * Every commit segment is a new connection; building the context took 8 % of the CPU at 1 MiB
 * segments, and resuming a session spares both sides the certificate exchange.
 */
import tls from 'node:tls';
import type { TlsSettings } from './tls-settings';

interface TlsState {
  context: tls.SecureContext;
  /** `host:port:servername` -> the receiver's latest session ticket. */
  tickets: Map<string, Buffer>;
}

/** A few entries: a certificate renewal (KMS rotation) makes a new one, the old ones age out. */
const MAX_STATES = 4;
const states = new Map<string, TlsState>();

const text = (v: string | Buffer | undefined) => (v === undefined ? '' : v.toString());

export function tlsStateFor(options: Pick<TlsSettings, 'ca' | 'cert' | 'key' | 'passphrase' | 'minVersion' | 'insecure'>): TlsState {
  // `insecure` too: a resumed session skips the certificate check, so a ticket from a connection
  // that did not verify must never serve one that does.
  const key = [options.ca, options.cert, options.key, options.passphrase, options.minVersion, String(options.insecure)].map(text).join('\0');
  let state = states.get(key);
  if (!state) {
    const context = tls.createSecureContext({
      ca: options.ca, cert: options.cert, key: options.key, passphrase: options.passphrase, minVersion: options.minVersion,
    });
    state = { context, tickets: new Map() };
    states.set(key, state);
    if (states.size > MAX_STATES) states.delete(states.keys().next().value!);
  }
  return state;
}
