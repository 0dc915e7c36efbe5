/**
 * Turns the settings' `<NAME>_SECRET` references into values before the settings are read: the
 * secrets are fetched once per instance (FC instance, worker process) and kept for its life; the
 * settings are then read from the environment with the fetched values laid over it, so
 * `loadConfig` stays synchronous and checks them like any other value.
 *
 * Rotation: when the SIEM refuses a secret (HEC 401/403, a TLS handshake failing over a
 * certificate), the transport calls the settings' renew hook once; it fetches the secrets again
 * and puts the new values into the running settings, and the transport retries once.
 */
import { SettingsReader } from '../config/reader';
import { scopedEnv } from '../config/scope';
import { FROM_KMS, type ResolvedEnv } from '../config/secrets';
import type { SecretSetting } from '../config/secrets';
import type { Notice } from '../outputs/output';
import { outputDefinition } from '../outputs/registry';
import { kmsEndpoint, readKmsEndpoint } from '../secrets/endpoint';
import { configuredOutputs, loadConfig, readOutputOnly, type Env, type ForwarderConfig } from './index';
import { ConfigError } from '../errors';
import type { Credentials } from '../sls/client';
import { kmsSecrets, type FetchSecret } from '../secrets/kms';


/** The fetched values of one instance; setting -> value. Never printed. */
export class SecretCache {
  private readonly values = new Map<string, string>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(readonly references: readonly SecretReference[], private readonly fetch: FetchSecret) {}

  has(setting: string): boolean {
    return this.references.some((r) => r.setting === setting);
  }

  /** Fetches every reference (in parallel); the first failure is the answer. */
  async load(): Promise<void> {
    await Promise.all(this.references.map((r) => this.refetch(r.setting)));
  }

  /** Fetches one again; callers asking while a fetch is under way share it. */
  refetch(setting: string): Promise<void> {
    const ref = this.references.find((r) => r.setting === setting);
    if (!ref) return Promise.resolve();
    let pending = this.inFlight.get(setting);
    if (!pending) {
      pending = this.fetch({ secretName: ref.secretName, secretSetting: ref.secretSetting })
        .then((value) => void this.values.set(setting, value))
        .finally(() => this.inFlight.delete(setting));
      this.inFlight.set(setting, pending);
    }
    return pending;
  }

  /** `env` with the fetched values laid over it, marked as fetched (config/secrets.ts reads the mark). */
  overlay(env: Env): ResolvedEnv {
    const out: ResolvedEnv = { ...env };
    const from = new Map<string, string>();
    for (const r of this.references) {
      out[r.setting] = this.values.get(r.setting) ?? '';
      from.set(r.setting, r.secretName);
    }
    out[FROM_KMS] = from;
    return out;
  }
}

export type { Notice } from '../outputs/output';

/** One `<NAME>_SECRET` to fetch, and the setting its value stands in for. */
export interface SecretReference {
  /** Where the fetched value goes, e.g. `SPLUNK_HEC_TOKEN` or, for output lake, `LAKE_SPLUNK_HEC_TOKEN`. */
  setting: string;
  /** The `_SECRET` setting that names it. */
  secretSetting: string;
  secretName: string;
  /** The secret-bearing setting, as its output reads it. */
  secret: SecretSetting;
  /** The output that reads it. */
  output: string;
}

/**
 * The secrets to fetch from KMS: those the configured outputs read. A `_SECRET` given together
 * with the value or the file is left out, and so is one an output does not read (a TLS key
 * without TLS): the settings check then reports the clash along with every other problem. A
 * shared (unprefixed) secret that several outputs read is fetched once.
 */
export function secretReferences(env: Env): SecretReference[] {
  const refs: SecretReference[] = [];
  const set = (e: Env, name: string) => (e[name] ?? '').trim() !== '';
  for (const o of configuredOutputs(env)) {
    const definition = outputDefinition(o.type)!;
    const scoped = o.prefix === '' ? env : scopedEnv(env, o.prefix);
    for (const s of definition.secrets) {
      if (!set(scoped, s.secret) || set(scoped, s.name) || set(scoped, s.file) || !definition.readsSecret(new SettingsReader(scoped), s)) continue;
      const own = o.prefix !== '' && set(env, o.prefix + s.secret);
      const setting = own ? o.prefix + s.name : s.name;
      refs.push({ setting, secretSetting: own ? o.prefix + s.secret : s.secret, secretName: scoped[s.secret]!.trim(), secret: s, output: o.name });
    }
  }
  return refs;
}

const printNotice: Notice = (line) => console.log(JSON.stringify({ event: 'sls-syslog-forwarder.secrets', ...line }));

/**
 * Gives each output whose secrets come from KMS its renewal: fetch them again and read that
 * output's settings anew (so a rotated value is checked like the first one).
 */
function attachRenewal(config: ForwarderConfig, references: readonly SecretReference[], cache: SecretCache, env: Env, notice: Notice): void {
  for (const o of configuredOutputs(env)) {
    const held = references.filter((r) => r.output === o.name);
    const running = config.outputs.find((c) => c.name === o.name);
    if (held.length === 0 || !running) continue;
    const reread = async () => {
      await Promise.all(held.map((r) => cache.refetch(r.setting)));
      return readOutputOnly(cache.overlay(env), o);
    };
    running.output.enableRenewal(held.map((r) => r.secret), reread, notice);
  }
}

/**
 * The settings, with every `<NAME>_SECRET` fetched through `fetcher` (made only when one is
 * referenced). Without references this is `loadConfig(env)`.
 */
export async function loadConfigWithSecrets(env: Env, fetcher: () => FetchSecret, notice: Notice = printNotice): Promise<ForwarderConfig> {
  const references = secretReferences(env);
  if (references.length === 0) return loadConfig(env);
  const unique = references.filter((r, i) => references.findIndex((o) => o.setting === r.setting) === i);
  const cache = new SecretCache(unique, fetcher());
  await cache.load();
  notice({ fetched: unique.map((r) => r.secretSetting) });
  const config = loadConfig(cache.overlay(env));
  attachRenewal(config, references, cache, env, notice);
  return config;
}

/**
 * KMS with these credentials, at KMS_ENDPOINT or the endpoint of the known region (FC_REGION, or
 * the worker's SLS endpoint); a ConfigError when neither says where.
 */
export function kmsFetcher(env: Env, credentials: () => Promise<Credentials>, slsEndpoint?: string): () => FetchSecret {
  return () => {
    const { problem } = readKmsEndpoint(env);
    if (problem) throw new ConfigError([problem]);
    const endpoint = kmsEndpoint(env, slsEndpoint);
    if (!endpoint) {
      throw new ConfigError([
        'KMS_ENDPOINT is not set and the region is not known (no FC_REGION, no Alibaba SLS endpoint): set KMS_ENDPOINT, e.g. KMS_ENDPOINT=kms.cn-hangzhou.aliyuncs.com, to fetch the *_SECRET settings.',
      ]);
    }
    return kmsSecrets({ endpoint, credentials });
  };
}
