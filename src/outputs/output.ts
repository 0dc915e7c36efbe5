/**
 * What an output is, to the rest of the forwarder. Each output lives in its own folder
 * (src/outputs/<name>/) and exports one `OutputDefinition`; src/outputs/registry.ts maps its name
 * to it. Nothing outside those files asks which output it is.
 */
import type { SettingsReader } from '../config/reader';
import type { SecretSetting } from '../config/secrets';
import type { Encoding } from '../format/encoding';
import type { Transport } from './transport';

export type Verdict = 'ok' | 'warn' | 'fail' | 'skip';

/** One line of `sls-syslog-forwarder check`. */
export interface CheckLine {
  verdict: Verdict;
  what: string;
  detail: string;
}

/** Printed once per KMS re-fetch: which settings, never a value. */
export type Notice = (line: Record<string, unknown>) => void;

/** An output whose settings were read and checked. */
export interface Output {
  /** Its definition's name (the registry's key). */
  readonly type: string;
  /** For messages: `tcp to siem.example.com:514`. */
  readonly label: string;
  /** How the format engines write its records. */
  readonly encoding: Encoding;
  /** A connection (datagram socket, HTTP agent), its connect and handshake bounded by `deadlineMs`. */
  open(deadlineMs: number): Promise<Transport>;
  /** `check`: reachability, TLS and the certificate, and with `sendTest` one test message. */
  check(sendTest: boolean): Promise<CheckLine[]>;
  /** The settings as safe to print: no secret, no PEM body. */
  describe(): Record<string, unknown>;
  /**
   * Some of its secrets come from KMS: `reread` fetches them again and reads this output's
   * settings anew. The output calls it when its receiver refuses a secret (that is how a rotation
   * arrives), and takes the fresh values.
   */
  enableRenewal(held: readonly SecretSetting[], reread: () => Promise<Output>, notice: Notice): void;
}

export interface OutputDefinition {
  /** The name OUTPUT and OUTPUTS use. */
  readonly name: string;
  /** One line for `--help` and errors. */
  readonly summary: string;
  /** The SIEM_PROFILE whose SIEM this output speaks to natively (that profile then picks it). */
  readonly siemProfile?: string;
  /** The secret-bearing settings it may read (the deploy files keep the confidential ones out). */
  readonly secrets: readonly SecretSetting[];
  /** Whether these settings make it read `secret` (a TLS key only with TLS...): only those are fetched from KMS. */
  readsSecret(r: SettingsReader, secret: SecretSetting): boolean;
  /** Reads and checks its settings; problems go to `r.problems`, and then the answer is undefined. */
  read(r: SettingsReader): Output | undefined;
}
