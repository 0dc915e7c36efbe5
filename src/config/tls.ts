/** TLS settings (RFC 5425): CA, client certificate (mTLS), SNI, minimum version, and the explicit `insecure` switch. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SettingsReader } from './reader';

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
}

/** Inline PEM pasted into a one-line environment variable often carries literal "\n". */
function normalisePem(pem: string): string {
  return pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem;
}

/** Reads PEM from `<NAME>_FILE` and/or inline `<NAME>`; checks it looks like `marker`. */
function pem(r: SettingsReader, name: string, marker: RegExp, what: string): { pem: string | undefined; source: string } {
  const file = r.text(`${name}_FILE`);
  const inline = r.raw(name);
  const parts: string[] = [];
  const sources: string[] = [];
  if (file) {
    const path = resolve(file);
    try {
      parts.push(readFileSync(path, 'utf8'));
      sources.push(`file ${path}`);
    } catch (err) {
      r.problems.push(
        `${name}_FILE="${file}" cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): ` +
          'give a path inside the code package or a layer (e.g. /code/ca.pem or /opt/certs/ca.pem).',
      );
    }
  }
  if (inline) {
    parts.push(normalisePem(inline));
    sources.push(name);
  }
  for (const [i, text] of parts.entries()) {
    if (!marker.test(text)) r.problems.push(`The ${what} from ${sources[i]} is not PEM (no "-----BEGIN ..." line of the right kind).`);
  }
  return { pem: parts.length > 0 ? parts.join('\n') : undefined, source: sources.join(' + ') };
}

const TLS_NAMES = [
  'SYSLOG_TLS_CA_FILE', 'SYSLOG_TLS_CA', 'SYSLOG_TLS_CERT_FILE', 'SYSLOG_TLS_CERT', 'SYSLOG_TLS_KEY_FILE', 'SYSLOG_TLS_KEY',
  'SYSLOG_TLS_KEY_PASSPHRASE', 'SYSLOG_TLS_SERVERNAME', 'SYSLOG_TLS_MIN_VERSION', 'SYSLOG_TLS_INSECURE',
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
  const ca = pem(r, 'SYSLOG_TLS_CA', /-----BEGIN CERTIFICATE-----/, 'CA');
  const cert = pem(r, 'SYSLOG_TLS_CERT', /-----BEGIN CERTIFICATE-----/, 'client certificate');
  const key = pem(r, 'SYSLOG_TLS_KEY', /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'client key');
  if ((cert.pem === undefined) !== (key.pem === undefined)) {
    r.problems.push('mTLS needs both a client certificate (SYSLOG_TLS_CERT_FILE or SYSLOG_TLS_CERT) and its key (SYSLOG_TLS_KEY_FILE or SYSLOG_TLS_KEY).');
  }
  const minVersion = r.oneOf('SYSLOG_TLS_MIN_VERSION', ['tlsv1.2', 'tlsv1.3'], 'tlsv1.2') === 'tlsv1.3' ? 'TLSv1.3' : 'TLSv1.2';
  return {
    ca: ca.pem,
    caSource: ca.source || "Node's public root CAs",
    cert: cert.pem,
    key: key.pem,
    passphrase: r.raw('SYSLOG_TLS_KEY_PASSPHRASE'),
    servername: r.text('SYSLOG_TLS_SERVERNAME'),
    minVersion,
    insecure: r.flag('SYSLOG_TLS_INSECURE', false),
  };
}
