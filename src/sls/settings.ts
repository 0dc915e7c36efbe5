/** The SLS source settings: what a trigger event may name, how SLS is reached, and how it is read. */
import type { SettingsReader } from '../config/reader';
import type { SplSource } from './client';

/** What the function's own settings allow an event to name. */
export interface SourcePolicy {
  /** SLS_HTTPS: Alibaba's endpoints over HTTPS (off only matters for a host named in `allowed`). */
  https: boolean;
  /** SLS_ALLOWED_ENDPOINTS: host names, IPs or `*.suffix` patterns, lower case. */
  allowed: readonly string[];
  /** FC_REGION (set by FC itself): the function's region; an Alibaba endpoint of another region is refused. */
  region: string | undefined;
  /** SLS_PROJECT, SLS_LOGSTORE: the only project and logstore an event may name, when set. */
  project: string | undefined;
  logstore: string | undefined;
}

/** Alibaba's SLS endpoints: `<region>.log.aliyuncs.com`, `<region>-intranet…`, `<region>-share…`. */
const ALIBABA_REGIONAL = /^([a-z0-9]+(?:-[a-z0-9]+)*?)(-intranet|-share)?\.log\.aliyuncs\.com$/;
export const ALIBABA_GLOBAL = 'log-global.aliyuncs.com';

/** The region and kind of an Alibaba SLS host name (lower case), or undefined for any other host. */
export function alibabaSlsHost(host: string): { region: string; kind: 'public' | 'intranet' | 'share' } | undefined {
  const m = ALIBABA_REGIONAL.exec(host);
  return m ? { region: m[1]!, kind: m[2] === '-intranet' ? 'intranet' : m[2] === '-share' ? 'share' : 'public' } : undefined;
}

/** A valid SLS_ALLOWED_ENDPOINTS entry: a host name, an IPv4 or IPv6 address, or `*.` and a suffix. */
export function isHostPattern(entry: string): boolean {
  const name = entry.startsWith('*.') ? entry.slice(2) : entry;
  return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(name) || (name === entry && entry.includes(':') && /^[0-9a-f:.]+$/.test(entry));
}

export function readSource(r: SettingsReader): SourcePolicy {
  const allowed = r.list('SLS_ALLOWED_ENDPOINTS').map((entry) => entry.toLowerCase());
  for (const entry of allowed) {
    if (!isHostPattern(entry)) {
      r.problems.push(`SLS_ALLOWED_ENDPOINTS: "${entry}" is not a host name, an IP address or a *.suffix pattern (no scheme, port or path), e.g. SLS_ALLOWED_ENDPOINTS=sls-proxy.corp.example,*.sls.corp.example.`);
    }
  }
  return { https: r.flag('SLS_HTTPS', true), allowed, region: r.text('FC_REGION'), project: r.text('SLS_PROJECT'), logstore: r.text('SLS_LOGSTORE') };
}

/** How the logstore is read. */
export interface PullSettings {
  /** LogGroups asked for per PullLogs call (SLS allows 1..1000). */
  pullCount: number;
  /** A pulled batch larger than this halves the next pull's count (memory stays bounded). */
  pullBudgetBytes: number;
  /** Longest wait for one SLS answer. */
  slsTimeoutMs: number;
  /** SPL on the way (SLS_QUERY or SLS_CONSUME_PROCESSOR): PullLogs answers what it makes of the data. */
  spl: SplSource | undefined;
}

export type SourceSettings = PullSettings & {
  /** What a trigger event may name, and whether Alibaba's endpoints are used over HTTPS. */
  policy: SourcePolicy;
};

export function readSourceSettings(r: SettingsReader): SourceSettings {
  const pullCount = r.integer('SLS_PULL_COUNT', 100, 1, 1000);
  const pullBudgetBytes = r.integer('SLS_PULL_BUDGET_BYTES', 8 * 1024 * 1024, 64 * 1024, 512 * 1024 * 1024);
  const slsTimeoutMs = r.integer('SLS_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000);
  const query = r.text('SLS_QUERY');
  const processor = r.text('SLS_CONSUME_PROCESSOR');
  if (query !== undefined && processor !== undefined) r.problems.push('SLS_QUERY and SLS_CONSUME_PROCESSOR are two ways to run SPL on the way: set one of them.');
  const spl: SplSource | undefined = query !== undefined ? { query } : processor !== undefined ? { processor } : undefined;
  return { pullCount, pullBudgetBytes, slsTimeoutMs, spl, policy: readSource(r) };
}
