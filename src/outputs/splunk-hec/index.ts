/** The Splunk HTTP Event Collector output (OUTPUT=splunk-hec): JSON events over HTTPS, optionally with indexer acknowledgement. */
import type { SettingsReader } from '../../config/reader';
import type { SecretSetting } from '../../config/secrets';
import { DEFAULT_STEP_BYTES, type Encoding } from '../../format/encoding';
import type { Notice, Output, OutputDefinition } from '../output';
import type { Transport } from '../transport';
import { checkHec } from './check';
import { HEC_TOKEN, readHec, type HecSettings } from './settings';
import { HecTransport } from './transport';

/** HEC events carry no size limit of their own: the kernel takes those up to its own (256 KiB). */
const MAX_EVENT_BYTES = 256 * 1024;

export class HecOutput implements Output {
  readonly type = 'splunk-hec';
  readonly label: string;
  readonly encoding: Encoding;

  constructor(readonly settings: HecSettings) {
    this.label = `Splunk HEC at ${settings.url.origin}`;
    this.encoding = {
      kind: 'hec-event', maxMessageBytes: MAX_EVENT_BYTES, stepBytes: DEFAULT_STEP_BYTES,
      envelope: { index: settings.index, sourcetype: settings.sourcetype, source: settings.source },
    };
  }

  open(): Promise<Transport> {
    return HecTransport.connect(this.settings);
  }

  check(sendTest: boolean) {
    return checkHec(this.settings, sendTest);
  }

  describe(): Record<string, unknown> {
    const s = this.settings;
    return { type: this.type, ...s, url: `${s.url.origin}${s.url.pathname}`, token: '[redacted]', ca: s.ca ? 'set' : 'none' };
  }

  enableRenewal(held: readonly SecretSetting[], reread: () => Promise<Output>, notice: Notice): void {
    if (!held.includes(HEC_TOKEN)) return;
    const hec = this.settings;
    hec.renewToken = async () => {
      const token = ((await reread()) as HecOutput).settings.token;
      notice({ refetched: [HEC_TOKEN.secret], why: 'the collector refused the token', changed: token !== hec.token });
      hec.token = token;
    };
  }
}

export const splunkHecOutput: OutputDefinition = {
  name: 'splunk-hec',
  summary: "Splunk's HTTP Event Collector: SPLUNK_HEC_*",
  siemProfile: 'splunk',
  secrets: [HEC_TOKEN],
  readsSecret: () => true,
  read(r: SettingsReader): Output | undefined {
    const settings = readHec(r);
    return settings ? new HecOutput(settings) : undefined;
  },
};
