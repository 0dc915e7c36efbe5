/**
 * Tests of the format engines read one output's settings as one flat object (format settings,
 * the encoding, and the syslog or HEC settings), and send a body the way a lane does.
 */
import { loadConfig, type Env, type ForwarderConfig } from '../../src/settings';
import type { Encoder } from '../../src/format/encoder';
import type { EncoderSettings, Framing } from '../../src/format/encoding';
import { HecOutput } from '../../src/outputs/splunk-hec';
import { SyslogOutput } from '../../src/outputs/syslog';
import type { SyslogSettings } from '../../src/outputs/syslog/settings';
import type { HecSettings } from '../../src/outputs/splunk-hec/settings';
import type { Transport } from '../../src/outputs/transport';

/** The syslog settings are absent when the output is HEC. */
export type FlatConfig = EncoderSettings & Omit<SyslogSettings, 'framing' | 'maxMessageBytes'> & {
  framing: Framing;
  maxMessageBytes: number;
  output: string;
  hec: HecSettings | undefined;
};

/** The first output's settings, flat. */
export function flatConfig(env: Env): FlatConfig {
  const o = loadConfig(env).outputs[0]!;
  const encoding = o.output.encoding;
  const syslog = o.output instanceof SyslogOutput ? o.output.settings : undefined;
  return {
    ...o.format, ...(syslog as SyslogSettings), encoding, output: o.output.type,
    framing: encoding.kind === 'hec-event' ? 'none' : encoding.framing, maxMessageBytes: encoding.maxMessageBytes,
    hec: o.output instanceof HecOutput ? o.output.settings : undefined,
  };
}

export interface BatchCounts {
  records: number;
  sentBytes: number;
  truncated: number;
  groups: number;
}

/** What the engines need of a connection. */
export type FramedTransport = Pick<Transport, 'send' | 'sendFramed'>;

/** Sends every record of `body` on `transport`, counting as a lane does. */
export async function sendBody(
  engine: Pick<Encoder, 'encode'>, body: Buffer, transport: FramedTransport, counts: BatchCounts, idPrefix: (group: number) => string | undefined,
): Promise<void> {
  for (const chunk of engine.encode(body, idPrefix)) {
    if (chunk.kind === 'frames') {
      const wait = transport.sendFramed(chunk.bytes);
      counts.records += chunk.records;
      counts.sentBytes += chunk.messageBytes;
      if (wait) await wait;
    } else if (chunk.kind === 'message') {
      const wait = transport.send(chunk.bytes);
      counts.records++;
      counts.sentBytes += chunk.bytes.length;
      if (chunk.truncated) counts.truncated++;
      if (wait) await wait;
    } else if (chunk.kind === 'group') counts.groups++;
  }
}

/** The HEC settings of the first output (undefined when it is not HEC). */
export function hecOf(config: ForwarderConfig): HecSettings | undefined {
  const o = config.outputs[0]!.output;
  return o instanceof HecOutput ? o.settings : undefined;
}

/** The syslog settings of the first output (it must be syslog). */
export function syslogOf(config: ForwarderConfig): SyslogSettings {
  const o = config.outputs[0]!.output;
  if (!(o instanceof SyslogOutput)) throw new Error('the first output is not syslog');
  return o.settings;
}
