/**
 * A real rsyslogd on 127.0.0.1 for end-to-end tests: TCP, UDP and TLS (openssl driver) inputs,
 * each writing what it parsed as one JSON object per line. Started and stopped by pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Input = 'tcp' | 'udp' | 'tls' | 'relp';
type Port = Input | 'relpTls';

/** What rsyslog parsed out of one message. */
export interface Received {
  pri: string;
  hostname: string;
  app: string;
  programname: string;
  procid: string;
  msgid: string;
  timestamp: string;
  structured: string;
  msg: string;
  /**
   * What rsyslog's parsers made of it, as JSON text: `rfc5424-sd` (mmpstrucdata), `cef`
   * (mmnormalize/liblognorm), and the keys of a JSON body (mmjsonparse).
   */
  parsed: string;
}

export interface RsyslogOptions {
  tls?: { caFile: string; certFile: string; keyFile: string };
  /** Also an imrelp input (Debian's rsyslog-relp). */
  relp?: boolean;
  /** Write only `msg`, without the parser actions: long soaks keep rsyslog's CPU and the files small. */
  lean?: boolean;
}

const PROBE_APP = 'rsyslog-probe';

export async function freePort(type: 'tcp' | 'udp'): Promise<number> {
  if (type === 'tcp') {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));
    return port;
  }
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const port = socket.address().port;
  await new Promise<void>((r) => socket.close(r));
  return port;
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export class Rsyslog {
  readonly dir = mkdtempSync(join(tmpdir(), 'sls-fwd-rsyslog-'));
  ports: Record<Port, number> = { tcp: 0, udp: 0, tls: 0, relp: 0, relpTls: 0 };
  private child: ChildProcess | undefined;
  private stderr = '';

  constructor(private readonly options: RsyslogOptions = {}) {}

  async start(): Promise<this> {
    this.ports = { tcp: await freePort('tcp'), udp: await freePort('udp'), tls: this.options.tls ? await freePort('tcp') : 0, relp: this.options.relp ? await freePort('tcp') : 0,
      relpTls: this.options.relp && this.options.tls ? await freePort('tcp') : 0 };
    writeFileSync(join(this.dir, 'rsyslog.conf'), this.config());
    await this.launch();
    return this;
  }

  /** Stops rsyslogd (by pid) and starts it again on the same ports, keeping what it received. */
  async restart(signal: NodeJS.Signals = 'SIGTERM', downMs = 0): Promise<void> {
    await this.kill(signal);
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.launch();
  }

  /** SIGKILL by pid, not started again until `relaunch()`: a receiver that is down for a while. */
  async crash(): Promise<void> {
    await this.kill('SIGKILL');
  }

  relaunch(): Promise<void> {
    return this.launch();
  }

  /** Sends a signal to rsyslogd by pid (SIGSTOP: it stops reading; SIGCONT: it goes on). */
  signal(signal: NodeJS.Signals): void {
    if (this.child?.pid && this.child.exitCode === null) process.kill(this.child.pid, signal);
  }

  private async launch(): Promise<void> {
    const conf = join(this.dir, 'rsyslog.conf');
    this.stderr = '';
    this.child = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(this.dir, 'rsyslogd.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    const exited = new Promise<never>((_, reject) =>
      this.child!.once('exit', (code) => reject(new Error(`rsyslogd exited (${code}) at start: ${this.stderr}`))),
    );
    exited.catch(() => {});
    const ready = async () => {
      await waitUntil(() => canConnect(this.ports.tcp), 10_000, 'rsyslog TCP input');
      if (this.ports.tls) await waitUntil(() => canConnect(this.ports.tls), 10_000, 'rsyslog TLS input');
      if (this.ports.relp) await waitUntil(() => canConnect(this.ports.relp), 10_000, 'rsyslog RELP input');
      if (this.ports.relpTls) await waitUntil(() => canConnect(this.ports.relpTls), 10_000, 'rsyslog RELP TLS input');
      // UDP has no handshake: send probes until one is written out.
      const probe = dgram.createSocket('udp4');
      const nonce = Math.random().toString(36).slice(2);
      try {
        await waitUntil(() => {
          probe.send(`<14>1 2025-01-01T00:00:00Z probe ${PROBE_APP} - - - ready ${nonce}`, this.ports.udp, '127.0.0.1');
          return this.readRaw('udp').some((r) => r.app === PROBE_APP && r.msg.endsWith(nonce));
        }, 10_000, 'rsyslog UDP input');
      } finally {
        probe.close();
      }
    };
    await Promise.race([ready(), exited]);
  }

  /** Everything parsed on one input so far, probes excluded. */
  messages(input: Input): Received[] {
    return this.readRaw(input).filter((r) => r.app !== PROBE_APP);
  }

  async waitForCount(input: Input, count: number, timeoutMs = 15_000): Promise<Received[]> {
    await waitUntil(() => this.messages(input).length >= count, timeoutMs, `${count} messages on ${input} (have ${this.messages(input).length})`);
    return this.messages(input);
  }

  /** Waits until the count stops changing, to catch extra (duplicate) deliveries. */
  async settle(input: Input, quietMs = 400): Promise<Received[]> {
    let last = -1;
    for (;;) {
      const n = this.messages(input).length;
      if (n === last) return this.messages(input);
      last = n;
      await new Promise((r) => setTimeout(r, quietMs));
    }
  }

  clear(): void {
    for (const input of ['tcp', 'udp', 'tls', 'relp'] as const) {
      const f = join(this.dir, `${input}.jsonl`);
      if (existsSync(f)) writeFileSync(f, '');
    }
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(timer);
    }
  }

  private readRaw(input: Input): Received[] {
    const file = join(this.dir, `${input}.jsonl`);
    if (!existsSync(file)) return [];
    // Only complete lines: the daemon may be in the middle of writing the last one.
    const text = readFileSync(file, 'utf8');
    return text
      .slice(0, text.lastIndexOf('\n') + 1)
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Received);
  }

  private config(): string {
    const tls = this.options.tls;
    const props = ['pri', 'hostname', ['app', 'app-name'], 'programname', 'procid', 'msgid', ['structured', 'structured-data'], 'msg'];
    // Lean keeps app-name: the readiness probe is recognised by it.
    const lines = (this.options.lean ? [['app', 'app-name'], 'msg'] : props).map((p) => {
      const [out, name] = Array.isArray(p) ? p : [p, p];
      return `  property(outname="${out}" name="${name}" format="jsonf")`;
    });
    return [
      `global(workDirectory="${this.dir}" maxMessageSize="1m" parser.escapeControlCharactersOnReceive="off")`,
      'module(load="imtcp")',
      'module(load="imudp")',
      'module(load="mmpstrucdata")',
      'module(load="mmnormalize")',
      'module(load="mmjsonparse")',
      this.options.relp ? 'module(load="imrelp")' : '',
      'template(name="parsed" type="list" option.jsonf="on") {',
      ...lines,
      ...(this.options.lean
        ? []
        : ['  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")', '  property(outname="parsed" name="$!all-json" format="jsonf")']),
      '}',
      // Direct queues: a message is in the file before the input reads on, so "read" (what a
      // delivery proof says) also means "written" here, and a SIGKILL loses nothing it had read.
      ...(['tcp', 'udp', 'tls', 'relp'] as const).map(
        (i) =>
          `ruleset(name="${i}" queue.type="Direct") {\n` +
          (this.options.lean
            ? ''
            : '  action(type="mmpstrucdata" sd_name.lowercase="off")\n' +
              '  action(type="mmnormalize" rule=["rule=:%cef:cef%"])\n' +
              '  action(type="mmjsonparse" cookie="")\n') +
          `  action(type="omfile" file="${join(this.dir, `${i}.jsonl`)}" template="parsed")\n}`,
      ),
      `input(type="imtcp" address="127.0.0.1" port="${this.ports.tcp}" ruleset="tcp")`,
      // A large receive buffer: UDP has no back-pressure, a full buffer drops datagrams silently.
      `input(type="imudp" address="127.0.0.1" port="${this.ports.udp}" ruleset="udp" rcvbufSize="32m")`,
      tls
        ? `input(type="imtcp" address="127.0.0.1" port="${this.ports.tls}" ruleset="tls" streamDriver.name="ossl" ` +
          `streamDriver.mode="1" streamDriver.authMode="anon" streamDriver.CAFile="${tls.caFile}" ` +
          `streamDriver.CertFile="${tls.certFile}" streamDriver.KeyFile="${tls.keyFile}")`
        : '',
      this.options.relp ? `input(type="imrelp" address="127.0.0.1" port="${this.ports.relp}" ruleset="relp")` : '',
      // RELP over TLS (librelp, OpenSSL): imrelp requires a client certificate its CA signed (mTLS).
      this.options.relp && tls
        ? `input(type="imrelp" address="127.0.0.1" port="${this.ports.relpTls}" ruleset="relp" tls="on" tls.tlslib="openssl" ` +
          `tls.authMode="certvalid" tls.caCert="${tls.caFile}" tls.myCert="${tls.certFile}" tls.myPrivKey="${tls.keyFile}")`
        : '',
      '',
    ].join('\n');
  }
}
