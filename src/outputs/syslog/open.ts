/** Opens the syslog connection the settings describe. */
import { SyslogError } from '../../errors';
import { CertificateRefusedError } from './errors';
import { RelpTransport } from './relp';
import { usesTls, type SyslogSettings } from './settings';
import { StreamTransport } from './stream';
import type { TlsSettings } from './tls-settings';
import type { Transport } from '../transport';
import { UdpTransport } from './udp';

/** `deadlineMs`: the connect and TLS handshake end by then at the latest. */
export function openSyslog(s: SyslogSettings, deadlineMs: number): Promise<Transport> {
  const useTls = usesTls(s);
  if (useTls && s.tls.insecure) {
    console.warn(
      `WARNING sls-syslog-forwarder: SYSLOG_TLS_INSECURE=true - the certificate of ${s.host}:${s.port} is NOT verified; ` +
        'anyone on the network path can read and alter these logs. Set SYSLOG_TLS_CA_FILE instead.',
    );
  }
  if (s.protocol === 'udp') return UdpTransport.connect(s.host, s.port);
  const connect = (): Promise<Transport> => {
    const common = {
      host: s.host, port: s.port, connectTimeoutMs: s.connectTimeoutMs, writeTimeoutMs: s.writeTimeoutMs,
      proofTimeoutMs: s.proofTimeoutMs, tls: useTls ? { ...s.tls } : undefined, deadlineMs,
    };
    if (s.protocol === 'relp') return RelpTransport.connect(common);
    return StreamTransport.connect({ ...common, framing: s.framing, proof: s.deliveryProof });
  };
  return useTls && s.tls.renew ? connectRenewingCertificates(connect, s.tls) : connect();
}

/** After KMS answered with material that did not help, it is not asked again this soon (as for the HEC token). */
const RENEWAL_QUIET_MS = 10_000;
const lastRenewal = new WeakMap<TlsSettings, number>();

/**
 * The TLS material comes from KMS: a handshake that fails over a certificate fetches it once more
 * (unless another connection already did, or KMS was asked moments ago) and, when it changed,
 * tries once again with it.
 */
async function connectRenewingCertificates(connect: () => Promise<Transport>, tls: TlsSettings): Promise<Transport> {
  const used = [tls.ca, tls.cert, tls.key, tls.passphrase];
  const unchanged = () => [tls.ca, tls.cert, tls.key, tls.passphrase].every((v, i) => v === used[i]);
  try {
    return await connect();
  } catch (err) {
    if (!(err instanceof CertificateRefusedError)) throw err;
    const quiet = Date.now() - (lastRenewal.get(tls) ?? -Infinity) < RENEWAL_QUIET_MS;
    if (unchanged() && !quiet) {
      lastRenewal.set(tls, Date.now());
      await tls.renew!().catch((renewal: Error) => {
        throw new SyslogError(`${err.message} Fetching the TLS secrets again from KMS failed too: ${renewal.message}`);
      });
    }
    if (unchanged()) throw err;
    return connect();
  }
}
