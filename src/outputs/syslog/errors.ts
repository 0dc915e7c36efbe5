/** The syslog output's errors: socket and TLS failures in words that name the SYSLOG_* settings. */
import { SyslogError } from '../../errors';
import { isCertificateError, networkFailure, type NetSettingNames } from '../net-errors';

export { CLOSED_IN_HANDSHAKE, isCertificateError } from '../net-errors';

const SYSLOG_NAMES: NetSettingNames = {
  address: 'SYSLOG_HOST, SYSLOG_PORT, SYSLOG_PROTOCOL',
  ca: 'Set SYSLOG_TLS_CA_FILE or SYSLOG_TLS_CA to the CA that signed it, and make sure SYSLOG_HOST (or SYSLOG_TLS_SERVERNAME) matches a name in the certificate',
  clientCertificate: 'SYSLOG_TLS_CERT_FILE and SYSLOG_TLS_KEY_FILE (or SYSLOG_TLS_CERT/SYSLOG_TLS_KEY), and check SYSLOG_TLS_MIN_VERSION',
};

/** A TLS handshake that failed over a certificate (ours refused, or theirs not trusted): a rotated secret may heal it. */
export class CertificateRefusedError extends SyslogError {}

export function syslogErrorFrom(err: NodeJS.ErrnoException, target: string, stage: string): SyslogError {
  const message = networkFailure(err, 'Syslog', target, stage, SYSLOG_NAMES);
  return isCertificateError(err) ? new CertificateRefusedError(message) : new SyslogError(message);
}
