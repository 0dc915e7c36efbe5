/** The syslog output's settings: receiver, protocol, TLS, framing, message size, timeouts, proof. */
import type { SettingsReader } from '../../config/reader';
import { readTls, type TlsSettings } from './tls-settings';

export type Protocol = 'udp' | 'tcp' | 'tls' | 'relp';
export type StreamFraming = 'octet-counting' | 'newline';
/** How a TCP/TLS receiver proves it read what was sent: by answering our orderly close, or not at all. */
export type DeliveryProof = 'close' | 'none';

export interface SyslogSettings {
  host: string;
  port: number;
  protocol: Protocol;
  /** RELP over TLS (the SYSLOG_TLS_* settings apply). */
  relpTls: boolean;
  tls: TlsSettings;
  framing: StreamFraming;
  /** Largest syslog message (without framing) in bytes; longer ones are cut and marked. */
  maxMessageBytes: number;
  connectTimeoutMs: number;
  /** How long a write may wait for the receiver to read before the connection counts as stalled. */
  writeTimeoutMs: number;
  /** TCP/TLS: `close` = a commit counts only once the receiver answered our close (FIN/close_notify). */
  deliveryProof: DeliveryProof;
  /** Longest wait for that answer (or for RELP acknowledgements) before the segment counts as not delivered. */
  proofTimeoutMs: number;
}

/** RFC 5426: every receiver SHOULD take 2048-octet datagrams; larger ones risk loss and fragmentation. */
export const UDP_DEFAULT_MESSAGE_BYTES = 2048;
/** Largest UDP payload in one IPv4 datagram (65535 - 20 IP - 8 UDP), rounded down. */
export const UDP_MAX_MESSAGE_BYTES = 65000;
/**
 * TCP/TLS default: 128 KiB. Above ~200 000 bytes rsyslog's imtcp rejects an octet-counted frame
 * ("frame too large, change to octet stuffing") and mangles the messages that follow (measured
 * with rsyslog 8.2302); syslog-ng's default log-msg-size is 64 KiB. Raise it only for receivers known to take more.
 */
export const STREAM_MAX_MESSAGE_BYTES = 128 * 1024;

export function usesTls(s: Pick<SyslogSettings, 'protocol' | 'relpTls'>): boolean {
  return s.protocol === 'tls' || s.relpTls;
}

export function readSyslog(r: SettingsReader): SyslogSettings | undefined {
  const before = r.problems.length;
  const host = r.text('SYSLOG_HOST');
  if (host === undefined) r.problems.push('SYSLOG_HOST is not set: give the SIEM/syslog receiver host name or IP, e.g. SYSLOG_HOST=siem.example.com.');
  const protocol = r.oneOf<Protocol>('SYSLOG_PROTOCOL', ['udp', 'tcp', 'tls', 'relp'], 'tcp');
  const port = r.integer('SYSLOG_PORT', protocol === 'tls' ? 6514 : protocol === 'relp' ? 2514 : 514, 1, 65535);
  const relpTls = protocol === 'relp' && r.flag('SYSLOG_RELP_TLS', false);
  const tls = readTls(r, relpTls ? 'tls' : protocol);
  let framing = r.oneOf<StreamFraming>('SYSLOG_FRAMING', ['octet-counting', 'newline'], 'octet-counting');
  if (protocol === 'relp') {
    // RELP carries each message with its length: the kernel's octet-counted frames are re-wrapped.
    if (framing === 'newline') r.problems.push('SYSLOG_FRAMING=newline does not apply to RELP (every RELP frame carries its length): remove it.');
    framing = 'octet-counting';
  }
  const udp = protocol === 'udp';
  const settings: SyslogSettings = {
    host: host ?? '', port, protocol, relpTls, tls, framing,
    maxMessageBytes: r.integer('SYSLOG_MAX_MESSAGE_BYTES', udp ? UDP_DEFAULT_MESSAGE_BYTES : STREAM_MAX_MESSAGE_BYTES, 480, udp ? UDP_MAX_MESSAGE_BYTES : 64 * 1024 * 1024),
    connectTimeoutMs: r.integer('SYSLOG_CONNECT_TIMEOUT_MS', 10_000, 100, 600_000),
    writeTimeoutMs: r.integer('SYSLOG_WRITE_TIMEOUT_MS', 30_000, 100, 600_000),
    deliveryProof: r.oneOf<DeliveryProof>('SYSLOG_DELIVERY_PROOF', ['close', 'none'], 'close'),
    proofTimeoutMs: r.integer('SYSLOG_PROOF_TIMEOUT_MS', 10_000, 100, 600_000),
  };
  return r.problems.length === before ? settings : undefined;
}
