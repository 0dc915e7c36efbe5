/** TLS settings (RFC 5425): CA, client certificate (mTLS), SNI, minimum version, and the explicit `insecure` switch. */
import { resolve } from 'node:path';
import type { SettingsReader } from '../../config/reader';
import { readSecret, readSettingFile, type SecretSetting } from '../../config/secrets';

/**
 * The TLS material that may come from a file or KMS; certificates are public, the key and its
 * passphrase are not. Written out in full: the deploy files and the README are checked against these names.
 */
export const TLS_CA: SecretSetting = { name: 'SYSLOG_TLS_CA', file: 'SYSLOG_TLS_CA_FILE', secret: 'SYSLOG_TLS_CA_SECRET', confidential: false };
export const TLS_CERT: SecretSetting = { name: 'SYSLOG_TLS_CERT', file: 'SYSLOG_TLS_CERT_FILE', secret: 'SYSLOG_TLS_CERT_SECRET', confidential: false };
export const TLS_KEY: SecretSetting = { name: 'SYSLOG_TLS_KEY', file: 'SYSLOG_TLS_KEY_FILE', secret: 'SYSLOG_TLS_KEY_SECRET', confidential: true };
export const TLS_KEY_PASSPHRASE: SecretSetting = {
  name: 'SYSLOG_TLS_KEY_PASSPHRASE', file: 'SYSLOG_TLS_KEY_PASSPHRASE_FILE', secret: 'SYSLOG_TLS_KEY_PASSPHRASE_SECRET', confidential: true,
};
export const TLS_SECRETS: readonly SecretSetting[] = [TLS_CA, TLS_CERT, TLS_KEY, TLS_KEY_PASSPHRASE];

export interface TlsSettings {
  /** PEM bundle of the CA(s) that signed the SIEM's certificate; undefined = Node's public roots. */
  ca: string | undefined;
  /** Where the CA came from, for messages (never the PEM itself). */
  caSource: string;
  /** Client certificate chain and key for mTLS. */
  cert: string | undefined;
  key: string | undefined;
  passphrase: string | undefined;
  servername: string | undefined;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** true only when SYSLOG_TLS_INSECURE=true: the server certificate is NOT verified. */
  insecure: boolean;
  /**
   * Set when any of the CA, certificate, key or passphrase comes from KMS (src/secrets/): fetches
   * them again and updates these settings in place. A connection calls it once when the handshake
   * fails over a certificate: that is how a rotated client certificate arrives.
   */
  renew?: () => Promise<void>;
}

/** Inline PEM pasted into a one-line environment variable often carries literal "\n". */
function normalisePem(pem: string): string {
  return pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem;
}

const PEM_FILE_HINT = 'Give the path of a PEM file inside the code package or a layer (e.g. /code/ca.pem or /opt/certs/ca.pem).';

/** The client certificate or key: from the variable, its `_FILE` or its `_SECRET`, one of them. */
function clientPem(r: SettingsReader, setting: SecretSetting, marker: RegExp, what: string): string | undefined {
  const got = readSecret(r, setting, 'none', PEM_FILE_HINT);
  if (got.value === undefined) return undefined;
  const pem = normalisePem(got.value);
  if (!marker.test(pem)) r.problems.push(`The ${what} from ${got.source} is not PEM (no "-----BEGIN ..." line of the right kind).`);
  return pem;
}

/**
 * The CA bundle: a file and the inline value are combined (two CAs, e.g. during a CA change);
 * a KMS secret stands alone.
 */
function caPem(r: SettingsReader): { pem: string | undefined; source: string } {
  const marker = /-----BEGIN CERTIFICATE-----/;
  const notPem = (source: string) => r.problems.push(`The CA from ${source} is not PEM (no "-----BEGIN ..." line of the right kind).`);
  if (r.text('SYSLOG_TLS_CA_SECRET') !== undefined) {
    const got = readSecret(r, TLS_CA, 'none', PEM_FILE_HINT);
    if (got.value === undefined) return { pem: undefined, source: '' };
    const pem = normalisePem(got.value);
    if (!marker.test(pem)) notPem(got.source!);
    return { pem, source: got.source! };
  }
  const parts: string[] = [];
  const sources: string[] = [];
  const file = readSettingFile(r, 'SYSLOG_TLS_CA_FILE', PEM_FILE_HINT);
  if (file !== undefined) {
    const source = `file ${resolve(r.text('SYSLOG_TLS_CA_FILE')!)}`;
    if (!marker.test(file)) notPem(source);
    parts.push(file);
    sources.push(source);
  }
  const inline = r.raw('SYSLOG_TLS_CA');
  if (inline !== undefined) {
    const pem = normalisePem(inline);
    if (!marker.test(pem)) notPem('SYSLOG_TLS_CA');
    parts.push(pem);
    sources.push('SYSLOG_TLS_CA');
  }
  return { pem: parts.length > 0 ? parts.join('\n') : undefined, source: sources.join(' + ') };
}

const TLS_NAMES = [
  ...TLS_SECRETS.flatMap((s) => [s.name, s.file, s.secret]),
  'SYSLOG_TLS_SERVERNAME', 'SYSLOG_TLS_MIN_VERSION', 'SYSLOG_TLS_INSECURE',
];

export function readTls(r: SettingsReader, protocol: 'udp' | 'tcp' | 'tls' | 'relp'): TlsSettings {
  const none: TlsSettings = { ca: undefined, caSource: 'none', cert: undefined, key: undefined, passphrase: undefined, servername: undefined, minVersion: 'TLSv1.2', insecure: false };
  if (protocol !== 'tls') {
    const set = TLS_NAMES.filter((n) => r.raw(n) !== undefined);
    if (set.length > 0) {
      r.problems.push(
        `${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set but SYSLOG_PROTOCOL is "${protocol}": TLS settings are never ` +
          `silently ignored${protocol === 'udp' ? ' (syslog over TLS needs TCP; there is no TLS over UDP here)' : ''}. Set SYSLOG_PROTOCOL=tls (or SYSLOG_RELP_TLS=on with relp), or remove them.`,
      );
    }
    return none;
  }
  const ca = caPem(r);
  const cert = clientPem(r, TLS_CERT, /-----BEGIN CERTIFICATE-----/, 'client certificate');
  const key = clientPem(r, TLS_KEY, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'client key');
  if ((cert === undefined) !== (key === undefined)) {
    r.problems.push('mTLS needs both a client certificate (SYSLOG_TLS_CERT_FILE, SYSLOG_TLS_CERT_SECRET or SYSLOG_TLS_CERT) and its key (SYSLOG_TLS_KEY_FILE, SYSLOG_TLS_KEY_SECRET or SYSLOG_TLS_KEY).');
  }
  const passphrase = readSecret(r, TLS_KEY_PASSPHRASE, 'newline', 'Give the path of a file holding only the key\'s passphrase.');
  const minVersion = r.oneOf('SYSLOG_TLS_MIN_VERSION', ['tlsv1.2', 'tlsv1.3'], 'tlsv1.2') === 'tlsv1.3' ? 'TLSv1.3' : 'TLSv1.2';
  return {
    ca: ca.pem,
    caSource: ca.source || "Node's public root CAs",
    cert,
    key,
    passphrase: passphrase.value,
    servername: r.text('SYSLOG_TLS_SERVERNAME'),
    minVersion,
    insecure: r.flag('SYSLOG_TLS_INSECURE', false),
  };
}
