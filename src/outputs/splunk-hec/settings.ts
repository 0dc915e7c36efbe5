/** Settings of the Splunk HTTP Event Collector output (OUTPUT=splunk-hec). */
import type { SettingsReader } from '../../config/reader';
import { readSecret, readSettingFile, type SecretSetting } from '../../config/secrets';
import { fieldPreset } from '../../format/presets';

/** The HEC token: a credential, so never in the function's configuration on FC. */
export const HEC_TOKEN: SecretSetting = { name: 'SPLUNK_HEC_TOKEN', file: 'SPLUNK_HEC_TOKEN_FILE', secret: 'SPLUNK_HEC_TOKEN_SECRET', confidential: true };

export interface HecSettings {
  /** Base URL, e.g. https://splunk.example.com:8088 (events go to /services/collector/event). */
  url: URL;
  token: string;
  /** Where the token came from (the setting, a file, a KMS secret's name), for messages; never the token. */
  tokenSource: string;
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
  /** SPLUNK_HEC_ALLOW_HTTP=on: an http:// URL was accepted (the token crosses the network in clear). */
  allowHttp: boolean;
  /**
   * Set when the token comes from KMS (src/secrets/): fetches it again and puts it in `token`. The
   * transport calls it once when the collector refuses the token: that is how a rotation arrives.
   */
  renewToken?: () => Promise<void>;
}

function readUrl(r: SettingsReader, allowHttp: boolean): URL | undefined {
  const raw = r.text('SPLUNK_HEC_URL');
  if (raw === undefined) {
    r.problems.push('SPLUNK_HEC_URL is not set: give the HEC base URL, e.g. SPLUNK_HEC_URL=https://splunk.example.com:8088.');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Not repeated: an unparsable URL may hold a password the userinfo rule cannot find.
    r.problems.push(`SPLUNK_HEC_URL (${raw.length} characters) is not a URL such as https://splunk.example.com:8088.`);
    return undefined;
  }
  if (url.username || url.password) {
    r.problems.push('SPLUNK_HEC_URL carries a user name and password (user:…@host): HEC authenticates with the token alone. Remove them from the URL (they are not repeated here) and set SPLUNK_HEC_TOKEN_SECRET or SPLUNK_HEC_TOKEN.');
    return undefined;
  }
  if (url.protocol === 'http:' && !allowHttp) {
    r.problems.push(
      `SPLUNK_HEC_URL is http://${url.host}: the HEC token and the logs would cross the network in clear. Use https:// (SPLUNK_HEC_CA_FILE for a private CA); ` +
        'only where the path is private anyway, set SPLUNK_HEC_ALLOW_HTTP=on (a WARNING is then printed at every start).',
    );
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    r.problems.push(`SPLUNK_HEC_URL is a ${url.protocol}// URL, not an https:// one such as https://splunk.example.com:8088.`);
    return undefined;
  }
  return url;
}

export function readHec(r: SettingsReader): HecSettings | undefined {
  const allowHttp = r.flag('SPLUNK_HEC_ALLOW_HTTP', false);
  const url = readUrl(r, allowHttp);
  const token = readSecret(r, HEC_TOKEN, 'all', 'Give the path of a file holding only the HEC token.');
  if (!token.given) {
    r.problems.push(
      'SPLUNK_HEC_TOKEN is not set: create an HEC token in Splunk (Settings > Data inputs > HTTP Event Collector) and keep it in ' +
        'KMS Secrets Manager (SPLUNK_HEC_TOKEN_SECRET=<secret name>), a file (SPLUNK_HEC_TOKEN_FILE) or SPLUNK_HEC_TOKEN.',
    );
  }
  const caText = readSettingFile(r, 'SPLUNK_HEC_CA_FILE', 'Give the path of the PEM file of the CA that signed the collector\'s certificate.');
  const settings: HecSettings = {
    url: url ?? new URL('https://invalid.invalid'),
    token: token.value ?? '',
    tokenSource: token.source ?? 'SPLUNK_HEC_TOKEN',
    index: r.text('SPLUNK_HEC_INDEX'),
    // A field preset names its log type's sourcetype (its fields then carry CIM names).
    sourcetype: r.text('SPLUNK_HEC_SOURCETYPE') ?? fieldPreset(r.text('FIELD_PRESET'))?.sourcetype ?? 'alicloud:sls',
    source: r.text('SPLUNK_HEC_SOURCE'),
    gzip: r.flag('SPLUNK_HEC_GZIP', true),
    ack: r.flag('SPLUNK_HEC_ACK', false),
    ackTimeoutMs: r.integer('SPLUNK_HEC_ACK_TIMEOUT_MS', 30_000, 100, 600_000),
    batchBytes: r.integer('SPLUNK_HEC_BATCH_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    ca: caText,
    insecure: r.flag('SPLUNK_HEC_INSECURE', false),
    allowHttp,
  };
  return url && token.value ? settings : undefined;
}
