/** The syslog output (OUTPUT=syslog): RFC 5424/3164 over UDP, TCP, TLS or RELP to any SIEM or relay. */
import type { SettingsReader } from '../../config/reader';
import type { SecretSetting } from '../../config/secrets';
import { DEFAULT_STEP_BYTES, type Encoding } from '../../format/encoding';
import type { Notice, Output, OutputDefinition } from '../output';
import type { Transport } from '../transport';
import { checkSyslog } from './check';
import { openSyslog } from './open';
import { readSyslog, usesTls, type SyslogSettings } from './settings';
import { TLS_SECRETS } from './tls-settings';

/** UDP: fewer frames per call, so the datagrams of one call stay near the socket's in-flight bound. */
const UDP_STEP_BYTES = 32 * 1024;

export class SyslogOutput implements Output {
  readonly type = 'syslog';
  readonly label: string;
  readonly encoding: Encoding;

  constructor(readonly settings: SyslogSettings) {
    this.label = `${settings.protocol}${settings.relpTls ? '+tls' : ''} to ${settings.host}:${settings.port}`;
    this.encoding = {
      kind: 'syslog-message',
      // UDP takes octet-counted frames and sends each message as its own datagram.
      framing: settings.protocol === 'udp' ? 'octet-counting' : settings.framing,
      maxMessageBytes: settings.maxMessageBytes,
      stepBytes: settings.protocol === 'udp' ? UDP_STEP_BYTES : DEFAULT_STEP_BYTES,
    };
  }

  open(deadlineMs: number): Promise<Transport> {
    return openSyslog(this.settings, deadlineMs);
  }

  check(sendTest: boolean) {
    return checkSyslog(this.settings, sendTest);
  }

  describe(): Record<string, unknown> {
    const { tls, ...rest } = this.settings;
    return {
      type: this.type, ...rest,
      tls: usesTls(this.settings)
        ? {
            ca: tls.caSource, clientCertificate: tls.cert ? 'set' : 'none', keyPassphrase: tls.passphrase ? '[redacted]' : 'none',
            servername: tls.servername, minVersion: tls.minVersion, verifyCertificate: !tls.insecure,
          }
        : undefined,
    };
  }

  enableRenewal(held: readonly SecretSetting[], reread: () => Promise<Output>, notice: Notice): void {
    const tls = this.settings.tls;
    if (!held.some((s) => TLS_SECRETS.includes(s))) return;
    tls.renew = async () => {
      const fresh = ((await reread()) as SyslogOutput).settings.tls;
      const changed = fresh.ca !== tls.ca || fresh.cert !== tls.cert || fresh.key !== tls.key || fresh.passphrase !== tls.passphrase;
      notice({ refetched: held.map((s) => s.secret), why: 'the TLS handshake failed over a certificate', changed });
      Object.assign(tls, { ca: fresh.ca, caSource: fresh.caSource, cert: fresh.cert, key: fresh.key, passphrase: fresh.passphrase });
    };
  }
}

export const syslogOutput: OutputDefinition = {
  name: 'syslog',
  summary: 'syslog (RFC 5424/3164) over UDP, TCP, TLS or RELP: SYSLOG_*',
  secrets: TLS_SECRETS,
  readsSecret(r: SettingsReader): boolean {
    const protocol = (r.text('SYSLOG_PROTOCOL') ?? '').toLowerCase();
    return protocol === 'tls' || (protocol === 'relp' && ['on', 'true', 'yes', '1'].includes((r.text('SYSLOG_RELP_TLS') ?? '').toLowerCase()));
  },
  read(r: SettingsReader): Output | undefined {
    const settings = readSyslog(r);
    return settings ? new SyslogOutput(settings) : undefined;
  },
};
