/**
 * How an output wants its records written, as the format engines read it. Each output's
 * definition (src/outputs/<name>/) makes one: the engines never see an output's name.
 */
import type { FormatSettings } from './settings';

/** Messages per kernel call, by their bytes: about one socket write (stream transports batch 256 KiB) or one HEC batch's worth. */
export const DEFAULT_STEP_BYTES = 240 * 1024;

/** How messages follow one another in the byte stream (RFC 6587): `none` concatenates them (HEC events). */
export type Framing = 'octet-counting' | 'newline' | 'none';

/** The envelope fields of a Splunk HEC event. */
export interface HecEnvelopeSettings {
  index: string | undefined;
  sourcetype: string;
  /** undefined = `sls:<project>/<logstore>`. */
  source: string | undefined;
}

export type Encoding =
  | {
      kind: 'syslog-message';
      framing: Exclude<Framing, 'none'>;
      /** Largest message (without framing) in bytes; longer ones are cut and marked. */
      maxMessageBytes: number;
      /** Frames per kernel call, about one write of the output (datagram outputs want fewer). */
      stepBytes: number;
    }
  | { kind: 'hec-event'; envelope: HecEnvelopeSettings; maxMessageBytes: number; stepBytes: number };

/** What the format engines read: one output's format settings and its encoding. */
export type EncoderSettings = FormatSettings & { encoding: Encoding };

/** The HEC envelope of an `hec` encoding. */
export function hecEnvelopeOf(encoding: Encoding): HecEnvelopeSettings {
  if (encoding.kind !== 'hec-event') throw new Error('not an HEC encoding');
  return encoding.envelope;
}
