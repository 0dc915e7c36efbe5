/**
 * What the deploy-time scripts share: settings from flags, then `.env`, then the environment;
 * Alibaba Cloud credentials from the standard environment variables (never printed); and the
 * `@alicloud/fc2` client (FC 2.0 API), which is used here and never in the function bundle.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseDotenv } from './s-yaml';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const FcClient = require('@alicloud/fc2') as new (accountId: string, config: Record<string, unknown>) => Fc2;

export interface Fc2Response<T = unknown> {
  headers: Record<string, string>;
  data: T;
}

export interface Fc2 {
  invokeFunction(service: string, fn: string, event: string, headers?: Record<string, string>): Promise<Fc2Response<Buffer | string | object>>;
  publishLayerVersion(name: string, options: object): Promise<Fc2Response<{ arn?: string; arnV2?: string; version?: number; codeSize?: number }>>;
}

export interface CloudCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string | undefined;
}

const root = resolve(__dirname, '../..');

export function dotenvDefaults(): Record<string, string> {
  const file = join(root, '.env');
  return existsSync(file) ? parseDotenv(readFileSync(file, 'utf8')) : {};
}

export class UsageError extends Error {
  override name = 'UsageError';
}

/** flag > .env > environment; throws a UsageError naming all three places when missing. */
export function setting(flags: Record<string, string | boolean | undefined>, flag: string, envName: string, fallback?: string): string {
  const given = flags[flag];
  const value = (typeof given === 'string' ? given : undefined) || dotenvDefaults()[envName] || process.env[envName] || fallback;
  if (!value) throw new UsageError(`Missing --${flag} (or ${envName} in .env or the environment).`);
  return value;
}

export function credentialsFromEnv(env = process.env): CloudCredentials {
  const accessKeyId = env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const accessKeySecret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  if (!accessKeyId || !accessKeySecret) {
    throw new UsageError(
      'Set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS keys) ' +
        'to a RAM user or role that may invoke the function and read the logstore.',
    );
  }
  const securityToken = env.ALIBABA_CLOUD_SECURITY_TOKEN || undefined;
  if (accessKeyId.startsWith('STS.') && !securityToken) throw new UsageError('The access key is an STS key: also set ALIBABA_CLOUD_SECURITY_TOKEN.');
  return { accessKeyId, accessKeySecret, securityToken };
}

export function fcClient(accountId: string, region: string, creds: CloudCredentials, endpoint?: string): Fc2 {
  return new FcClient(accountId, {
    accessKeyID: creds.accessKeyId,
    accessKeySecret: creds.accessKeySecret,
    securityToken: creds.securityToken,
    region,
    secure: true,
    timeout: 330_000,
    ...(endpoint ? { endpoint } : {}),
  });
}

/** Runs a script's main, turning errors into one clear line and exit code 1. */
/**
 * node:util parseArgs for a script's flags, plus `--help`/`-h` (prints `usage`, exit 0); a user's
 * mistake (unknown flag, a value that looks like a flag) is one line on stderr and exit 2.
 */
export function parseFlags<const T extends NonNullable<ParseArgsConfig['options']>>(options: T, usage: string) {
  let parsed: { values: Record<string, unknown> };
  try {
    parsed = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true }) as { values: Record<string, unknown> };
  } catch (err) {
    const text = (err as Error).message.split('\n');
    console.error(`${text[0]}${text[2] ? ` ${text[2]}` : ''} (--help lists the options)`);
    process.exit(2);
  }
  if (parsed.values.help) {
    console.log(usage.trim());
    process.exit(0);
  }
  return parsed.values as ReturnType<typeof parseArgs<{ options: T }>>['values'];
}

export function run(main: () => Promise<void>): void {
  main().catch((err: Error) => {
    console.error(`${err.name === 'UsageError' ? '' : `${err.name}: `}${err.message}`);
    process.exit(1);
  });
}
