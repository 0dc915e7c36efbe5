/** Turns socket/TLS errors into messages that tell the user what to check. */
import { SyslogError } from '../errors';

const CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED',
]);

/** A TLS 1.3 server that refuses our certificate may just close, right after our side of the handshake. */
export const CLOSED_IN_HANDSHAKE = 'ERR_TLS_CLOSED_IN_HANDSHAKE';

const TLS_REFUSAL = /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|HANDSHAKE_FAILURE)|^ERR_TLS_CLOSED_IN_HANDSHAKE$/;

/** Certificate and TLS-handshake refusals: retrying the same connection cannot make them succeed. */
export function isCertificateError(err: NodeJS.ErrnoException): boolean {
  const code = err.code ?? '';
  return CERT_CODES.has(code) || TLS_REFUSAL.test(code);
}

/** A TLS handshake that failed over a certificate (ours refused, or theirs not trusted): a rotated secret may heal it. */
export class CertificateRefusedError extends SyslogError {}

export function syslogErrorFrom(err: NodeJS.ErrnoException, target: string, stage: string): SyslogError {
  const code = err.code ?? '';
  let hint: string;
  if (TLS_REFUSAL.test(code)) {
    hint =
      'The SIEM refused the TLS handshake, typically because it requires a client certificate it trusts (mTLS): ' +
      'set SYSLOG_TLS_CERT_FILE and SYSLOG_TLS_KEY_FILE (or SYSLOG_TLS_CERT/SYSLOG_TLS_KEY), and check SYSLOG_TLS_MIN_VERSION.';
  } else if (CERT_CODES.has(code)) {
    hint =
      "The SIEM's TLS certificate was not accepted. Set SYSLOG_TLS_CA_FILE or SYSLOG_TLS_CA to the CA " +
      'that signed it, and make sure SYSLOG_HOST (or SYSLOG_TLS_SERVERNAME) matches a name in the certificate.';
  } else if (code === 'ECONNREFUSED') {
    hint = 'Nothing accepts connections there: check SYSLOG_HOST, SYSLOG_PORT, SYSLOG_PROTOCOL and that the receiver is running.';
  } else if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    hint = 'The receiver cannot be reached: check the network path from FC (VPC, NAT gateway or internet access, firewall/security group).';
  } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    hint = 'The host name does not resolve: check SYSLOG_HOST (and the VPC DNS if it is a private name).';
  } else if (code === 'ECONNRESET' || code === 'EPIPE') {
    hint = 'The receiver dropped the connection (restart, idle timeout, or TLS/plain-TCP mismatch). The invocation fails so the trigger retries the range.';
  } else {
    hint = 'The invocation fails so the trigger retries the range.';
  }
  const message = `Syslog ${stage} to ${target} failed: ${code ? `${code} ` : ''}${err.message}. ${hint}`;
  return isCertificateError(err) ? new CertificateRefusedError(message) : new SyslogError(message);
}
