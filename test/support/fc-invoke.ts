/**
 * Runs the built function (dist/index.js) the way FC does: a fresh Node process per instance
 * with the function's environment variables; the initializer once, then
 * `handler(eventBuffer, context, callback)` per invocation with STS credentials in
 * `context.credentials`, then PreStop. Captures each callback's outcome and everything printed.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SlsEmulator } from '../sls-emulator/server';

export interface Invocation {
  error: { name: string; message: string } | null;
  result: Record<string, unknown> | null;
  /** What the function printed during this invocation (its log). */
  stdout: string;
  stderr: string;
}

export const TEST_CREDENTIALS = {
  accessKeyId: 'STS.NUk6zZxWfNxkNbLBxoVfytasfG',
  accessKeySecret: 'sEcReT-3kd9Xw0Zq7PvB2mLr5TnY8',
  securityToken: 'CAIS-token-Zm9vYmFyYmF6cXV4LXNlY3JldC10b2tlbg',
};

/** The emulator's key table accepting TEST_CREDENTIALS (the STS key FC would inject). */
export const TEST_KEYS = { [TEST_CREDENTIALS.accessKeyId]: { secret: TEST_CREDENTIALS.accessKeySecret, securityToken: TEST_CREDENTIALS.securityToken } };

/** A started SLS emulator that accepts TEST_CREDENTIALS. */
export async function startEmulator(): Promise<SlsEmulator> {
  const emulator = new SlsEmulator({ keys: TEST_KEYS });
  await emulator.start();
  return emulator;
}

// The instance: reads one command per stdin line, answers with one "@@" line per command.
const RUNNER = `
const fn = require(process.env.FWD_BUNDLE);
const rl = require('readline').createInterface({ input: process.stdin });
const reply = (err, result) => process.stdout.write('\\n@@' + JSON.stringify(err
  ? { error: { name: err.name, message: err.message }, result: null }
  : { error: null, result: result === undefined ? null : result }) + '\\n');
rl.on('line', (line) => {
  const cmd = JSON.parse(line);
  if (cmd.op === 'init') fn.initializer(cmd.context, reply);
  else if (cmd.op === 'invoke') fn.handler(Buffer.from(cmd.event, 'utf8'), cmd.context, reply);
  else if (cmd.op === 'stop') fn.preStop(cmd.context, (err) => { reply(err); setImmediate(() => process.exit(0)); });
});
`;

export function fcContext(credentials: object | null = TEST_CREDENTIALS, timeoutSeconds = 60) {
  return {
    requestId: 'req-' + Math.random().toString(16).slice(2),
    credentials,
    function: { name: 'forwarder', handler: 'index.handler', memory: 256, timeout: timeoutSeconds, initializer: 'index.initializer' },
    service: { name: 'sls-syslog' },
    region: 'cn-hangzhou',
  };
}

export class FcInstance {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly replies: Array<(line: string) => void> = [];
  private stdout = '';
  private stderr = '';
  private exited: Promise<number | null>;

  constructor(env: Record<string, string>, options: { bundle?: string; cwd?: string } = {}) {
    this.child = spawn(process.execPath, ['-e', RUNNER], {
      // The emulator listens on loopback: named as an operator names a private endpoint.
      env: { PATH: process.env.PATH ?? '', SLS_ALLOWED_ENDPOINTS: '127.0.0.1,localhost', ...env, FWD_BUNDLE: options.bundle ?? join(__dirname, '../../dist/index.js') },
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      if (line.startsWith('@@')) this.replies.shift()?.(line.slice(2));
      else if (line !== '') this.stdout += line + '\n';
    });
    this.child.stderr.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  init(credentials: object | null = TEST_CREDENTIALS): Promise<Invocation> {
    return this.command({ op: 'init', context: fcContext(credentials) });
  }

  invoke(event: unknown, credentials: object | null = TEST_CREDENTIALS, timeoutSeconds = 60): Promise<Invocation> {
    // A function timeout longer than the default answer wait gets a longer wait (soaks use FC's 300 s).
    const answerMs = timeoutSeconds > 50 ? timeoutSeconds * 1000 + 10_000 : 60_000;
    return this.command({ op: 'invoke', event: typeof event === 'string' ? event : JSON.stringify(event), context: fcContext(credentials, timeoutSeconds) }, answerMs);
  }

  async stop(): Promise<Invocation> {
    const out = await this.command({ op: 'stop', context: fcContext(null) });
    await this.exited;
    return out;
  }

  /** The instance's peak resident memory so far (VmHWM), in bytes. */
  peakRssBytes(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  private command(cmd: object, timeoutMs = 60_000): Promise<Invocation> {
    const beforeOut = this.stdout.length;
    const beforeErr = this.stderr.length;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${JSON.stringify(cmd).slice(0, 60)} within ${timeoutMs} ms: ${this.stderr}`)), timeoutMs);
      this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the function process exited (${code}): ${this.stderr}`));
      });
      this.replies.push((line) => {
        clearTimeout(timer);
        let out: Pick<Invocation, 'error' | 'result'>;
        try {
          out = JSON.parse(line) as Pick<Invocation, 'error' | 'result'>;
        } catch {
          reject(new Error(`unparsable answer from the function process: ${line.slice(0, 300)}`));
          return;
        }
        resolve({ ...out, stdout: this.stdout.slice(beforeOut), stderr: this.stderr.slice(beforeErr) });
      });
      this.child.stdin.write(JSON.stringify(cmd) + '\n');
    });
  }
}

/**
 * One FC instance, one invocation: initializer, handler, PreStop. As on FC, an initializer
 * failure fails the invocation with the initializer's error.
 */
export async function invokeFunction(
  env: Record<string, string>,
  event: unknown,
  options: { credentials?: object | null; bundle?: string; cwd?: string; timeoutSeconds?: number } = {},
): Promise<Invocation> {
  const instance = new FcInstance(env, options);
  try {
    const init = await instance.init();
    const out = init.error ? init : await instance.invoke(event, options.credentials === undefined ? TEST_CREDENTIALS : options.credentials, options.timeoutSeconds);
    const stop = await instance.stop();
    return { ...out, stdout: init.stdout + out.stdout + stop.stdout, stderr: init.stderr + out.stderr + stop.stderr };
  } catch (err) {
    instance.kill();
    throw err;
  }
}
