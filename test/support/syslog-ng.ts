/**
 * A real syslog-ng (Debian's 3.38, unpacked by scripts/ensure-debian-packages.sh) on 127.0.0.1.
 * Each input parses with what a SIEM team would configure: the RFC 5424 syslog() driver (with
 * octet-counting) and json-parser, kv-parser, or csv-parser + kv-parser for LEEF. Every message is
 * written as one JSON object with the RFC 5424 fields, SDATA and the parsed name-value pairs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './rsyslog';

export type SngInput = 'plain' | 'json' | 'kv' | 'leef' | 'tls' | 'legacy';

export const SYSLOG_NG_ROOT = process.env.SYSLOG_NG_ROOT ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sls-syslog-forwarder/syslog-ng');

export interface SyslogNgOptions {
  /** mTLS input: server certificate, and the CA that client certificates must chain to. */
  tls?: { caFile: string; certFile: string; keyFile: string };
  kvSeparator?: string;
}

export class SyslogNg {
  readonly dir = mkdtempSync(join(tmpdir(), 'sls-fwd-syslog-ng-'));
  ports: Record<SngInput, number> = { plain: 0, json: 0, kv: 0, leef: 0, tls: 0, legacy: 0 };
  private child: ChildProcess | undefined;
  private log = '';

  constructor(private readonly options: SyslogNgOptions = {}) {}

  async start(): Promise<this> {
    for (const k of Object.keys(this.ports) as SngInput[]) this.ports[k] = await freePort('tcp');
    writeFileSync(join(this.dir, 'syslog-ng.conf'), this.config());
    const lib = join(SYSLOG_NG_ROOT, 'usr/lib/syslog-ng');
    this.child = spawn(
      join(SYSLOG_NG_ROOT, 'usr/sbin/syslog-ng'),
      ['-F', '--no-caps', '-f', join(this.dir, 'syslog-ng.conf'), `--module-path=${join(lib, '3.38')}`,
        '-R', join(this.dir, 'persist'), '-p', join(this.dir, 'pid'), '-c', join(this.dir, 'ctl')],
      { env: { ...process.env, LD_LIBRARY_PATH: lib }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stdout!.on('data', (c: Buffer) => (this.log += c.toString()));
    this.child.stderr!.on('data', (c: Buffer) => (this.log += c.toString()));
    const deadline = Date.now() + 10_000;
    const net = await import('node:net');
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`syslog-ng exited at start: ${this.log}`);
      const up = await new Promise<boolean>((resolve) => {
        const s = net.connect(this.ports.tls, '127.0.0.1');
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
      if (up) return this;
      if (Date.now() > deadline) throw new Error(`syslog-ng did not listen within 10 s: ${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  messages(input: SngInput): Array<Record<string, unknown>> {
    const file = join(this.dir, `${input}.jsonl`);
    if (!existsSync(file)) return [];
    // Only complete lines: the daemon may be in the middle of writing the last one.
    const text = readFileSync(file, 'utf8');
    return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async waitForCount(input: SngInput, count: number, timeoutMs = 15_000): Promise<Array<Record<string, unknown>>> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages(input).length < count) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} messages on syslog-ng ${input} (have ${this.messages(input).length}): ${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.messages(input);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private config(): string {
    const tls = this.options.tls;
    const sep = (this.options.kvSeparator ?? '||').replace(/"/g, '\\"');
    const out = (name: string) =>
      `destination d_${name} { file("${join(this.dir, `${name}.jsonl`)}" template("$(format-json --scope rfc5424 --scope nv-pairs --scope dot-nv-pairs --key ISODATE --exclude SOURCE --exclude LEGACY_MSGHDR)\\n")); };`;
    const src = (name: string, port: number, extra = '') =>
      `source s_${name} { syslog(ip("127.0.0.1") port(${port}) transport("tcp") ${extra} log-msg-size(2097152)); };`;
    return [
      '@version: 3.38',
      'options { keep-hostname(yes); chain-hostnames(no); keep-timestamp(yes); stats-freq(0); frac-digits(6); };',
      src('plain', this.ports.plain), src('json', this.ports.json), src('kv', this.ports.kv), src('leef', this.ports.leef),
      tls
        ? `source s_tls { syslog(ip("127.0.0.1") port(${this.ports.tls}) transport("tls") tls(key-file("${tls.keyFile}") cert-file("${tls.certFile}") ca-file("${tls.caFile}") peer-verify(required-trusted))); };`
        : src('tls', this.ports.tls),
      // RFC 3164, newline framed (network()), as QRadar and ArcSight take it; a LEEF payload after the
      // host (no TAG) is read back from LEGACY_MSGHDR + MESSAGE like the LEEF input's.
      `source s_legacy { network(ip("127.0.0.1") port(${this.ports.legacy}) transport("tcp") log-msg-size(2097152)); };`,
      ...(['plain', 'json', 'kv', 'leef', 'tls', 'legacy'] as const).map(out),
      'log { source(s_plain); destination(d_plain); };',
      'log { source(s_json); parser { json-parser(prefix(".json.")); }; destination(d_json); };',
      'log { source(s_tls); parser { json-parser(prefix(".json.")); }; destination(d_tls); };',
      `log { source(s_kv); parser { kv-parser(prefix(".kv.") pair-separator("${sep}") value-separator("=")); }; destination(d_kv); };`,
      // LEEF: seven |-separated header columns (the last one holds all attributes), then tab-separated key=value pairs.
      'log { source(s_leef); parser { csv-parser(columns("LEEF.version", "LEEF.vendor", "LEEF.product", "LEEF.pversion", "LEEF.eventid", "LEEF.delimiter", "LEEF.attrs") delimiters("|") flags(greedy) quote-pairs("")); };',
      '      parser { kv-parser(prefix(".leef.") template("${LEEF.attrs}") pair-separator("\\t") value-separator("=")); }; destination(d_leef); };',
      'log { source(s_legacy); parser { csv-parser(template("${LEGACY_MSGHDR}${MESSAGE}") columns("LEEF.version", "LEEF.vendor", "LEEF.product", "LEEF.pversion", "LEEF.eventid", "LEEF.delimiter", "LEEF.attrs") delimiters("|") flags(greedy) quote-pairs("")); };',
      '      parser { kv-parser(prefix(".leef.") template("${LEEF.attrs}") pair-separator("\\t") value-separator("=")); }; destination(d_legacy); };',
      '',
    ].join('\n');
  }
}
