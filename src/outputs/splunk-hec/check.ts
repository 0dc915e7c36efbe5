/** What `check` tests for a Splunk HEC output: the health endpoint over verified TLS, and what weakens it. */
import type { CheckLine } from '../output';
import type { HecSettings } from './settings';
import { HecTransport } from './transport';

const firstLine = (err: unknown) => (err as Error).message.split('\n')[0]!;

export async function checkHec(s: HecSettings, sendTest: boolean): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  let transport: HecTransport;
  try {
    transport = await HecTransport.connect(s);
  } catch (err) {
    return [{ verdict: 'fail', what: 'SIEM connection', detail: firstLine(err) }];
  }
  const unverified = s.insecure && s.url.protocol === 'https:';
  lines.push({ verdict: 'ok', what: 'Splunk HEC health', detail: `${transport.target} accepted` });
  if (unverified) {
    lines.push({ verdict: 'warn', what: 'SIEM certificate', detail: 'certificate NOT verified (SPLUNK_HEC_INSECURE=true): anyone on the network path can read and alter these logs; set the CA instead' });
  }
  if (s.url.protocol === 'http:') {
    lines.push({ verdict: 'warn', what: 'Splunk HEC', detail: 'not encrypted (SPLUNK_HEC_ALLOW_HTTP=on): the token and the logs cross the network in clear' });
  }
  if (sendTest) lines.push({ verdict: 'skip', what: 'test message', detail: 'not sent to Splunk HEC: the health call above is its check' });
  transport.destroy();
  return lines;
}
