/** Settings of the Splunk HTTP Event Collector output (OUTPUT=splunk-hec). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SettingsReader } from './reader';

export interface HecSettings {
  /** Base URL, e.g. https://splunk.example.com:8088 (events go to /services/collector/event). */
  url: URL;
  token: string;
  index: string | undefined;
  sourcetype: string;
  /** undefined = `sls:<project>/<logstore>`. */
  source: string | undefined;
  gzip: boolean;
  /** Wait for indexer acknowledgement of every batch before reporting success. */
  ack: boolean;
  ackTimeoutMs: number;
  batchBytes: number;
  ca: string | undefined;
  insecure: boolean;
}

export function readHec(r: SettingsReader): HecSettings | undefined {
  const rawUrl = r.text('SPLUNK_HEC_URL');
  const token = r.text('SPLUNK_HEC_TOKEN');
  let url: URL | undefined;
  if (rawUrl === undefined) r.problems.push('SPLUNK_HEC_URL is not set: give the HEC base URL, e.g. SPLUNK_HEC_URL=https://splunk.example.com:8088.');
  else {
    try {
      url = new URL(rawUrl);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    } catch {
      r.problems.push(`SPLUNK_HEC_URL="${rawUrl}" is not an http(s) URL such as https://splunk.example.com:8088.`);
    }
  }
  if (token === undefined) r.problems.push('SPLUNK_HEC_TOKEN is not set: create an HEC token in Splunk (Settings > Data inputs > HTTP Event Collector).');
  const caFile = r.text('SPLUNK_HEC_CA_FILE');
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(resolve(caFile), 'utf8');
    } catch (err) {
      r.problems.push(`SPLUNK_HEC_CA_FILE="${caFile}" cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}).`);
    }
  }
  const settings: HecSettings = {
    url: url ?? new URL('https://invalid.invalid'),
    token: token ?? '',
    index: r.text('SPLUNK_HEC_INDEX'),
    sourcetype: r.text('SPLUNK_HEC_SOURCETYPE') ?? 'alicloud:sls',
    source: r.text('SPLUNK_HEC_SOURCE'),
    gzip: r.flag('SPLUNK_HEC_GZIP', true),
    ack: r.flag('SPLUNK_HEC_ACK', false),
    ackTimeoutMs: r.integer('SPLUNK_HEC_ACK_TIMEOUT_MS', 30_000, 100, 600_000),
    batchBytes: r.integer('SPLUNK_HEC_BATCH_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    ca,
    insecure: r.flag('SPLUNK_HEC_INSECURE', false),
  };
  return url && token ? settings : undefined;
}
