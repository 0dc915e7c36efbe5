/** What shipping a range is given: the settings of the source, of resuming, and of every output. */
import type { RecordFilter } from '../format/filter';
import type { FormatSettings } from '../format/settings';
import type { ConnectionSettings } from '../outputs/connection';
import type { Output } from '../outputs/output';
import type { SourceSettings } from '../sls/settings';
import type { DeliverySettings, ResumeSettings } from './settings';

/** One output and everything read for it. */
export interface OutputConfig {
  /** Its name in OUTPUTS, or its type when it is the only one. */
  name: string;
  /** `SIEM_` for the output named siem; '' for the only output (unprefixed settings). */
  prefix: string;
  output: Output;
  format: FormatSettings;
  connection: ConnectionSettings;
  delivery: DeliverySettings;
  /** OUTPUT_FILTER: the records it takes; undefined = all. */
  filter: RecordFilter | undefined;
}

export interface ForwarderConfig {
  source: SourceSettings;
  resume: ResumeSettings;
  outputs: OutputConfig[];
}
