/** What `check` tests for a syslog output: DNS, the connection and TLS, the certificate's expiry, a test message. */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import type { CheckLine } from '../output';
import { openSyslog } from './open';
import { usesTls, type SyslogSettings } from './settings';
import { StreamTransport } from './stream';

/** A certificate expiring sooner than this is a warning. */
const EXPIRY_WARNING_DAYS = 30;
const STEP_TIMEOUT_MS = 15_000;

const firstLine = (err: unknown) => (err as Error).message.split('\n')[0]!;

export async function checkSyslog(s: SyslogSettings, sendTest: boolean): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  if (!isIP(s.host)) {
    try {
      const { address } = await lookup(s.host);
      lines.push({ verdict: 'ok', what: 'SIEM DNS', detail: `${s.host} is ${address}` });
    } catch (err) {
      lines.push({ verdict: 'fail', what: 'SIEM DNS', detail: `${s.host} does not resolve (${(err as NodeJS.ErrnoException).code}): check SYSLOG_HOST (and the VPC's DNS for a private name)` });
      return lines;
    }
  }
  let transport;
  try {
    transport = await openSyslog(s, Date.now() + STEP_TIMEOUT_MS);
    transport.deadlineMs = Date.now() + STEP_TIMEOUT_MS;
  } catch (err) {
    lines.push({ verdict: 'fail', what: 'SIEM connection', detail: firstLine(err) });
    return lines;
  }
  const tls = usesTls(s);
  const unverified = tls && s.tls.insecure;
  const udp = s.protocol === 'udp';
  lines.push({
    verdict: udp ? 'warn' : 'ok', what: udp ? 'SIEM socket' : 'SIEM connection',
    detail: udp
      ? `${transport.target}: UDP has no handshake, so reaching the receiver cannot be checked (and delivery cannot be proven)`
      : `${transport.target} accepted${tls ? ` the TLS handshake${unverified ? '' : ' (certificate and name verified)'}` : ''}`,
  });
  // Under the insecure switch the handshake proves nothing about who answered: say so, never "verified".
  if (unverified) {
    lines.push({ verdict: 'warn', what: 'SIEM certificate', detail: 'certificate NOT verified (SYSLOG_TLS_INSECURE=true): anyone on the network path can read and alter these logs; set the CA instead' });
  }
  const certificate = transport instanceof StreamTransport && !unverified ? transport.peerCertificate() : undefined;
  if (certificate?.valid_to) {
    const days = Math.floor((Date.parse(certificate.valid_to) - Date.now()) / 86_400_000);
    lines.push(days < EXPIRY_WARNING_DAYS
      ? { verdict: 'warn', what: 'SIEM certificate', detail: `expires in ${days} day(s) (${certificate.valid_to}): renew it before then` }
      : { verdict: 'ok', what: 'SIEM certificate', detail: `valid until ${certificate.valid_to}` });
  }
  if (sendTest) {
    try {
      const stamp = new Date().toISOString();
      // Marked as a test in every field a SIEM rule can see: APP-NAME, MSGID and the text.
      transport.send(Buffer.from(`<14>1 ${stamp} ${hostname()} sls-syslog-forwarder - CHECK - [TEST] sls-syslog-forwarder check: test message, ignore`));
      await transport.commit();
      lines.push({ verdict: 'ok', what: 'test message', detail: `sent, ${transport.proof === 'none' ? 'handed to the kernel (no proof possible)' : `proven delivered (${transport.proof})`}` });
    } catch (err) {
      lines.push({ verdict: 'fail', what: 'test message', detail: firstLine(err) });
    }
  }
  transport.destroy();
  return lines;
}
