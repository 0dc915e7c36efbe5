/** Opens the syslog connection the settings describe. */
import type { ForwarderConfig, TlsSettings } from '../config';
import { SyslogError } from '../errors';
import { CertificateRefusedError } from './errors';
import { HecTransport } from './hec';
import { RelpTransport } from './relp';
import { StreamTransport } from './stream';
import type { SyslogTransport } from './transport';
import { UdpTransport } from './udp';

/** `deadlineMs`: the connect and TLS handshake end by then at the latest; later waits follow `transport.deadlineMs`. */
export async function openTransport(config: ForwarderConfig, deadlineMs = Number.POSITIVE_INFINITY): Promise<SyslogTransport> {
  const transport = await openUnbounded(config, deadlineMs);
  transport.deadlineMs = deadlineMs;
  return transport;
}

function openUnbounded(config: ForwarderConfig, deadlineMs: number): Promise<SyslogTransport> {
  if (config.output === 'splunk-hec') return HecTransport.connect(config.hec!);
  const useTls = config.protocol === 'tls' || config.relpTls;
  if (useTls && config.tls.insecure) {
    console.warn(
      `WARNING sls-syslog-forwarder: SYSLOG_TLS_INSECURE=true - the certificate of ${config.host}:${config.port} is NOT verified; ` +
        'anyone on the network path can read and alter these logs. Set SYSLOG_TLS_CA_FILE instead.',
    );
  }
  if (config.protocol === 'udp') return UdpTransport.connect(config.host, config.port);
  const connect = (): Promise<SyslogTransport> => {
    const common = {
      host: config.host, port: config.port, connectTimeoutMs: config.connectTimeoutMs, writeTimeoutMs: config.writeTimeoutMs,
      proofTimeoutMs: config.proofTimeoutMs, tls: useTls ? { ...config.tls } : undefined, deadlineMs,
    };
    if (config.protocol === 'relp') return RelpTransport.connect(common);
    return StreamTransport.connect({ ...common, framing: config.framing, proof: config.deliveryProof });
  };
  return useTls && config.tls.renew ? connectRenewingCertificates(connect, config.tls) : connect();
}

/**
 * The TLS material comes from KMS: a handshake that fails over a certificate fetches it once more
 * (unless another connection already did) and, when it changed, tries once again with it.
 */
async function connectRenewingCertificates(connect: () => Promise<SyslogTransport>, tls: TlsSettings): Promise<SyslogTransport> {
  const used = [tls.ca, tls.cert, tls.key, tls.passphrase];
  const unchanged = () => [tls.ca, tls.cert, tls.key, tls.passphrase].every((v, i) => v === used[i]);
  try {
    return await connect();
  } catch (err) {
    if (!(err instanceof CertificateRefusedError)) throw err;
    if (unchanged()) {
      await tls.renew!().catch((renewal: Error) => {
        throw new SyslogError(`${err.message} Fetching the TLS secrets again from KMS failed too: ${renewal.message}`);
      });
    }
    if (unchanged()) throw err;
    return connect();
  }
}
