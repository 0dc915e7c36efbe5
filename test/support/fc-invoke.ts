/**
 * Invokes the built function (dist/index.js) the way FC does: a fresh Node process with the
 * function's environment variables, `handler(eventBuffer, context, callback)`, credentials in
 * `context.credentials`. Returns the callback's outcome and everything the function printed.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface Invocation {
  error: { name: string; message: string } | null;
  result: Record<string, unknown> | null;
  stdout: string;
  stderr: string;
}

export const TEST_CREDENTIALS = {
  accessKeyId: 'STS.NUk6zZxWfNxkNbLBxoVfytasfG',
  accessKeySecret: 'sEcReT-3kd9Xw0Zq7PvB2mLr5TnY8',
  securityToken: 'CAIS-token-Zm9vYmFyYmF6cXV4LXNlY3JldC10b2tlbg',
};

const RUNNER = `
const { handler } = require(process.env.FWD_BUNDLE);
let input = '';
process.stdin.on('data', (c) => (input += c));
process.stdin.on('end', () => {
  const { event, context } = JSON.parse(input);
  handler(Buffer.from(event, 'utf8'), context, (err, result) => {
    const out = err ? { error: { name: err.name, message: err.message }, result: null } : { error: null, result };
    process.stdout.write('\\n@@RESULT@@' + JSON.stringify(out) + '\\n');
    // FC keeps the instance; here a lingering handle would only make the test slow.
    setTimeout(() => process.exit(0), 2000).unref();
  });
});
`;

export function invokeFunction(
  env: Record<string, string>,
  event: unknown,
  options: { credentials?: object | null; bundle?: string; timeoutMs?: number } = {},
): Promise<Invocation> {
  const context = {
    requestId: 'req-' + Math.random().toString(16).slice(2),
    credentials: options.credentials === undefined ? TEST_CREDENTIALS : options.credentials,
    function: { name: 'forwarder', handler: 'index.handler', memory: 256, timeout: 60 },
    service: { name: 'sls-syslog' },
    region: 'cn-hangzhou',
  };
  const bundle = options.bundle ?? join(__dirname, '../../dist/index.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', RUNNER], {
      env: { PATH: process.env.PATH ?? '', ...env, FWD_BUNDLE: bundle },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const marker = stdout.lastIndexOf('\n@@RESULT@@');
      if (marker < 0) {
        reject(new Error(`the function never called back (exit ${code ?? signal}): ${stderr || stdout}`));
        return;
      }
      const out = JSON.parse(stdout.slice(marker + 11)) as Pick<Invocation, 'error' | 'result'>;
      resolve({ ...out, stdout: stdout.slice(0, marker), stderr });
    });
    child.stdin.end(JSON.stringify({ event: typeof event === 'string' ? event : JSON.stringify(event), context }));
  });
}
