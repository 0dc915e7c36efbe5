/**
 * Settings, read once from environment variables and validated together so a user sees every
 * problem in one error instead of fixing them one invocation at a time.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from './errors';

export type Protocol = 'udp' | 'tcp' | 'tls';
export type SyslogFormat = 'rfc5424' | 'rfc3164';
export type Framing = 'octet-counting' | 'newline';
export type MessageFormat = 'kv' | 'json';
export type ConnectionMode = 'reuse' | 'per-invocation';

export interface TlsSettings {
  /** PEM bundle of the CA(s) that signed the SIEM's certificate; undefined = Node's public roots. */
  ca: string | undefined;
  /** Where the CA came from, for messages (never the PEM itself). */
  caSource: string;
  servername: string | undefined;
}

export interface ForwarderConfig {
  host: string;
  port: number;
  protocol: Protocol;
  tls: TlsSettings;
  format: SyslogFormat;
  framing: Framing;
  facility: number;
  severity: number;
  /** Fixed HOSTNAME; undefined = the log group's source (the machine that produced the log). */
  hostname: string | undefined;
  /** Fixed APP-NAME; undefined = the logstore name. */
  appName: string | undefined;
  messageFormat: MessageFormat;
  kvSeparator: string;
  /** Largest syslog message (without framing) in bytes; longer ones are cut and marked. */
  maxMessageBytes: number;
  connectTimeoutMs: number;
  /** `reuse`: one connection per FC instance, opened by the initializer; `per-invocation`: closed gracefully after each. */
  connectionMode: ConnectionMode;
  /** A reused connection idle longer than this is replaced (NAT and firewalls drop idle flows silently). */
  maxIdleMs: number;
  /** LogGroups asked for per PullLogs call (SLS allows 1..1000). */
  pullCount: number;
}

export type Env = Record<string, string | undefined>;

export const FACILITIES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, ftp: 11, ntp: 12, security: 13, console: 14, solaris_cron: 15,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

export const SEVERITIES: Record<string, number> = {
  emerg: 0, emergency: 0, alert: 1, crit: 2, critical: 2, err: 3, error: 3,
  warning: 4, warn: 4, notice: 5, info: 6, informational: 6, debug: 7,
};

/** Largest UDP payload that fits one IPv4 datagram (65535 - 20 IP - 8 UDP), rounded down. */
export const UDP_MAX_MESSAGE_BYTES = 65000;
export const STREAM_MAX_MESSAGE_BYTES = 1024 * 1024;

/** Collects problems instead of throwing at the first one. */
class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name)?.trim().toLowerCase();
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name}="${value}" is not one of: ${allowed.join(', ')}.`);
    return fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name)?.trim();
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      this.problems.push(`${name}="${value}" must be a whole number from ${min} to ${max}.`);
      return fallback;
    }
    return n;
  }

  named(name: string, table: Record<string, number>, fallback: number, max: number): number {
    const value = this.raw(name)?.trim().toLowerCase();
    if (value === undefined) return fallback;
    if (/^\d+$/.test(value) && Number(value) <= max) return Number(value);
    const known = table[value];
    if (known !== undefined) return known;
    this.problems.push(
      `${name}="${value}" is neither a number 0-${max} nor one of: ${Object.keys(table).join(', ')}.`,
    );
    return fallback;
  }

  /** A syslog header field: printable US-ASCII without spaces (RFC 5424 PRINTUSASCII). */
  headerToken(name: string, maxLength: number): string | undefined {
    const value = this.raw(name)?.trim();
    if (value === undefined) return undefined;
    if (!/^[\x21-\x7e]+$/.test(value) || value.length > maxLength) {
      this.problems.push(
        `${name}="${value}" must be 1-${maxLength} printable ASCII characters without spaces (RFC 5424).`,
      );
      return undefined;
    }
    return value;
  }
}

/** Inline PEM pasted into a one-line environment variable often carries literal "\n". */
function normalisePem(pem: string): string {
  return pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem;
}

function readTls(r: Reader, protocol: Protocol): TlsSettings {
  const caFile = r.raw('SYSLOG_TLS_CA_FILE')?.trim();
  const caInline = r.raw('SYSLOG_TLS_CA');
  const servername = r.raw('SYSLOG_TLS_SERVERNAME')?.trim();
  if (protocol !== 'tls') {
    if (caFile || caInline) {
      r.problems.push(
        `SYSLOG_TLS_CA_FILE/SYSLOG_TLS_CA are set but SYSLOG_PROTOCOL is "${protocol}": ` +
          'set SYSLOG_PROTOCOL=tls to encrypt, or remove the CA settings.',
      );
    }
    return { ca: undefined, caSource: 'none', servername: undefined };
  }
  const pems: string[] = [];
  const sources: string[] = [];
  if (caFile) {
    const path = resolve(caFile);
    try {
      pems.push(readFileSync(path, 'utf8'));
      sources.push(`file ${path}`);
    } catch (err) {
      r.problems.push(
        `SYSLOG_TLS_CA_FILE="${caFile}" cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): ` +
          'give a path inside the code package or a layer (e.g. /code/ca.pem or /opt/ca.pem).',
      );
    }
  }
  if (caInline) {
    pems.push(normalisePem(caInline));
    sources.push('SYSLOG_TLS_CA');
  }
  for (const [i, pem] of pems.entries()) {
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      r.problems.push(`The CA from ${sources[i]} is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" line).`);
    }
  }
  return {
    ca: pems.length > 0 ? pems.join('\n') : undefined,
    caSource: sources.length > 0 ? sources.join(' + ') : "Node's public root CAs",
    servername,
  };
}

export function loadConfig(env: Env = process.env): ForwarderConfig {
  const r = new Reader(env);
  const host = r.raw('SYSLOG_HOST')?.trim();
  if (host === undefined) {
    r.problems.push('SYSLOG_HOST is not set: give the SIEM/syslog receiver host name or IP, e.g. SYSLOG_HOST=siem.example.com.');
  }
  const protocol = r.oneOf<Protocol>('SYSLOG_PROTOCOL', ['udp', 'tcp', 'tls'], 'tcp');
  const port = r.integer('SYSLOG_PORT', protocol === 'tls' ? 6514 : 514, 1, 65535);
  const tls = readTls(r, protocol);
  const format = r.oneOf<SyslogFormat>('SYSLOG_FORMAT', ['rfc5424', 'rfc3164'], 'rfc5424');
  const framing = r.oneOf<Framing>('SYSLOG_FRAMING', ['octet-counting', 'newline'], 'octet-counting');
  const facility = r.named('SYSLOG_FACILITY', FACILITIES, FACILITIES.user!, 23);
  const severity = r.named('SYSLOG_SEVERITY', SEVERITIES, SEVERITIES.info!, 7);
  const hostname = r.headerToken('SYSLOG_HOSTNAME', 255);
  const appName = r.headerToken('SYSLOG_APP_NAME', 48);
  const messageFormat = r.oneOf<MessageFormat>('SYSLOG_MESSAGE_FORMAT', ['kv', 'json'], 'kv');
  // Not trimmed: " " is a valid separator. Empty (an unset `${env()}` in s.yaml) means the default.
  const kvSeparator = env.SYSLOG_KV_SEPARATOR || '||';
  const maxMessageBytes = r.integer(
    'SYSLOG_MAX_MESSAGE_BYTES',
    protocol === 'udp' ? UDP_MAX_MESSAGE_BYTES : STREAM_MAX_MESSAGE_BYTES,
    480,
    protocol === 'udp' ? UDP_MAX_MESSAGE_BYTES : 64 * 1024 * 1024,
  );
  const connectTimeoutMs = r.integer('SYSLOG_CONNECT_TIMEOUT_MS', 10_000, 100, 600_000);
  const connectionMode = r.oneOf<ConnectionMode>('SYSLOG_CONNECTION', ['reuse', 'per-invocation'], 'reuse');
  const maxIdleMs = r.integer('SYSLOG_MAX_IDLE_SECONDS', 120, 1, 3600) * 1000;
  const pullCount = r.integer('SLS_PULL_COUNT', 100, 1, 1000);

  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return {
    host: host!, port, protocol, tls, format, framing, facility, severity, hostname, appName,
    messageFormat, kvSeparator, maxMessageBytes, connectTimeoutMs, connectionMode, maxIdleMs, pullCount,
  };
}

/** The settings as safe to print: no PEM bodies (and the config never holds credentials). */
export function describeConfig(c: ForwarderConfig): Record<string, unknown> {
  const { tls, ...rest } = c;
  return { ...rest, tls: c.protocol === 'tls' ? { ca: tls.caSource, servername: tls.servername } : undefined };
}
