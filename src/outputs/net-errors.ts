/** Turns socket and TLS errors into messages that name the settings to check, for every output. */

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

/** The settings an output's messages point the user to. */
export interface NetSettingNames {
  /** e.g. `SYSLOG_HOST, SYSLOG_PORT, SYSLOG_PROTOCOL` or `SPLUNK_HEC_URL`. */
  address: string;
  /** The settings that give the CA and the name to verify. */
  ca: string;
  /** The client certificate settings, for mTLS; undefined when the output has none. */
  clientCertificate: string | undefined;
}

/** What to check, by the error's code. */
export function networkHint(err: NodeJS.ErrnoException, names: NetSettingNames): string {
  const code = err.code ?? '';
  if (TLS_REFUSAL.test(code)) {
    return names.clientCertificate
      ? `The receiver refused the TLS handshake, typically because it requires a client certificate it trusts (mTLS): set ${names.clientCertificate}.`
      : 'The receiver refused the TLS handshake: check that it speaks TLS there and which TLS versions it accepts.';
  }
  if (CERT_CODES.has(code)) return `The receiver's TLS certificate was not accepted. ${names.ca}.`;
  if (code === 'ECONNREFUSED') return `Nothing accepts connections there: check ${names.address} and that the receiver is running.`;
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return 'The receiver cannot be reached: check the network path from FC (VPC, NAT gateway or internet access, firewall/security group).';
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `The host name does not resolve: check ${names.address} (and the VPC DNS if it is a private name).`;
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return 'The receiver dropped the connection (restart, idle timeout, or TLS/plain-TCP mismatch). The invocation fails so the trigger retries the range.';
  }
  return 'The invocation fails so the trigger retries the range.';
}

/** `<what> <stage> to <target> failed: CODE message. hint` */
export function networkFailure(err: NodeJS.ErrnoException, what: string, target: string, stage: string, names: NetSettingNames): string {
  const code = err.code ?? '';
  return `${what} ${stage} to ${target} failed: ${code ? `${code} ` : ''}${err.message}. ${networkHint(err, names)}`;
}
