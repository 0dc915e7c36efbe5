/**
 * Throwaway PKI for TLS tests, made with the openssl CLI (Node cannot issue X.509 certificates):
 * a CA, a server certificate for 127.0.0.1/localhost signed by it, and an unrelated CA.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caFile: string;
  caPem: string;
  certFile: string;
  keyFile: string;
  /** A CA that did not sign the server certificate. */
  otherCaFile: string;
  /** A client certificate (mTLS) signed by the test CA, and its key. */
  clientCertFile: string;
  clientKeyFile: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'sls-fwd-pki-'));
  makeCa(dir, 'test-ca');
  makeCa(dir, 'other-ca');
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost',
    '-keyout', 'server.key', '-out', 'server.csr'], dir);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'test-ca.pem', '-CAkey', 'test-ca.key', '-CAcreateserial',
    '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem'], dir);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=sls-syslog-forwarder',
    '-keyout', 'client.key', '-out', 'client.csr'], dir);
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl(['x509', '-req', '-in', 'client.csr', '-CA', 'test-ca.pem', '-CAkey', 'test-ca.key', '-CAcreateserial',
    '-days', '2', '-extfile', 'client.ext', '-out', 'client.pem'], dir);
  return {
    dir,
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
    caFile: join(dir, 'test-ca.pem'),
    caPem: readFileSync(join(dir, 'test-ca.pem'), 'utf8'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
    otherCaFile: join(dir, 'other-ca.pem'),
  };
}

/** Another server certificate from the test CA, for these DNS names (e.g. an SLS endpoint's). */
export function makeServerCert(pki: TestPki, names: string[]): { certFile: string; keyFile: string } {
  const base = `server-${names[0]!.replace(/[^a-z0-9]+/gi, '-')}`;
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${names[0]}`,
    '-keyout', `${base}.key`, '-out', `${base}.csr`], pki.dir);
  writeFileSync(join(pki.dir, `${base}.ext`), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', 'test-ca.pem', '-CAkey', 'test-ca.key', '-CAcreateserial',
    '-days', '2', '-extfile', `${base}.ext`, '-out', `${base}.pem`], pki.dir);
  return { certFile: join(pki.dir, `${base}.pem`), keyFile: join(pki.dir, `${base}.key`) };
}
