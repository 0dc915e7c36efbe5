/**
 * Offline checks of the two deploy files. s.yaml (FC 3.0, edition 3.0.0) is rendered by the real
 * Serverless Devs CLI (`s preview`, which works offline for that edition) and validated against
 * scripts/s-fc3.schema.json; s.fc2.yaml (FC 2.0, edition 1.0.0, which `s` 3.x cannot preview) is
 * rendered here (`${env(X)}`, `${config(AccountID)}`, `${vars.x}`) and validated against
 * scripts/s-yaml.schema.json. Both must pass every setting the function reads.
 */
import Ajv from 'ajv';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import yaml from 'js-yaml';
import { SECRET_SETTINGS } from '../../src/outputs/registry';

export interface CheckResult {
  rendered: unknown;
  problems: string[];
}

export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

/**
 * The settings modules of src/: each layer reads its own settings in a file named `settings.ts`
 * or `*-settings.ts`; add src/config/ (the readers), the composition in src/settings/, and the few
 * modules that read one setting next to its use (connection reuse, OUTPUT_FILTER, KMS_ENDPOINT).
 */
export function configSources(root: string): string {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  const settingsFile = (f: string) =>
    !f.startsWith('/src/consume/') && // the worker's own settings (README, "Consumer-group worker")
    (/(^|[-/])settings\.ts$/.test(f) || /\/src\/(config|settings)\//.test(f) || /\/src\/(outputs\/connection|format\/filter|secrets\/endpoint)\.ts$/.test(f));
  return files(join(root, 'src')).map((f) => `/${relative(root, f)}`).filter(settingsFile).map((f) => join(root, f)).sort().map((f) => readFileSync(f, 'utf8')).join('\n');
}

/** The environment variable names the function reads. */
export function settingsReadByFunction(configSource: string): string[] {
  return [...new Set([...configSource.matchAll(/\b((?:SYSLOG|SLS|SPLUNK_HEC|KMS)_[A-Z0-9_]*[A-Z0-9]|OUTPUTS?|OUTPUT_(?:FILTER|MAX_[A-Z0-9_]*[A-Z0-9])|FIELD_PRESET|JSON_SCHEMA|SIEM_PROFILE)\b/g)].map((m) => m[1]!))].sort();
}

/**
 * Secret values the deploy files never pass: anyone who can read the function's configuration
 * could read them. The function still reads them (the worker, local runs); on FC they come from
 * KMS (`<NAME>_SECRET`) or a file in the code or layer (`<NAME>_FILE`).
 */
export const NOT_DEPLOYED = SECRET_SETTINGS.filter((s) => s.confidential);

/** The settings the deploy files pass: every one the function reads, but the confidential values. */
export function settingsDeployed(configSource: string): string[] {
  return settingsReadByFunction(configSource).filter((name) => !NOT_DEPLOYED.some((s) => s.name === name));
}

/** The `<NAME>_` prefixes of the outputs OUTPUTS names (`siem:syslog` -> `SIEM_`). */
export function outputPrefixes(env: Record<string, string>): string[] {
  return (env.OUTPUTS ?? '').split(',').map((e) => e.split(':')[0]!.trim().toUpperCase()).filter((n) => n !== '').map((n) => `${n}_`);
}

/** The prefixed settings `.env` sets for the outputs of a fan-out (SIEM_SYSLOG_HOST...): the deploy file must pass each. */
export function prefixedSettings(env: Record<string, string>, configSource: string): string[] {
  const names = settingsReadByFunction(configSource);
  const prefixes = outputPrefixes(env);
  return Object.keys(env).filter((k) => (env[k] ?? '').trim() !== '' && prefixes.some((p) => k.startsWith(p) && names.includes(k.slice(p.length)))).sort();
}

/** A confidential value set in .env (also for one output of several): it would be ignored by the deploy files, so it is a mistake to say. */
function confidentialValues(env: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const prefix of ['', ...outputPrefixes(env)]) {
    for (const s of NOT_DEPLOYED.filter((s) => (env[prefix + s.name] ?? '').trim() !== '')) {
      problems.push(
        `.env sets ${prefix}${s.name}: a secret value never goes into the function's configuration (readable with fc:GetFunction). Put it in KMS Secrets Manager and set ${prefix}${s.secret}=<its name>, or in a file and set ${prefix}${s.file}`,
      );
    }
  }
  return problems;
}

/**
 * Each setting the function reads is passed through `vars` (no confidential value), so is each
 * prefixed setting `.env` sets for an output of a fan-out, and the whole fits FC's 4 KB.
 */
function settingsProblems(where: string, vars: Record<string, string>, configSource: string, env: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const setting of settingsDeployed(configSource)) {
    if (!(setting in vars)) problems.push(`${where} lacks ${setting}, which the function reads`);
  }
  for (const setting of prefixedSettings(env, configSource)) {
    if (!(setting in vars) && !NOT_DEPLOYED.some((s) => setting.endsWith(s.name))) {
      problems.push(`.env sets ${setting} for an output of OUTPUTS, but ${where} does not pass it: add ${setting}: \${env('${setting}', '')} there`);
    }
  }
  for (const s of NOT_DEPLOYED) if (s.name in vars) problems.push(`${where} passes ${s.name}: a secret value must not be in the function's configuration; pass ${s.secret} and ${s.file} instead`);
  const size = Object.entries(vars).reduce((n, [k, v]) => n + k.length + String(v).length, 0);
  if (size > 4096) problems.push(`environment variables total ${size} bytes; FC allows 4 KB (put the CA in the layer: SYSLOG_TLS_CA_FILE=/opt/certs/...)`);
  return problems;
}

function schemaProblems(schemaFile: string, rendered: unknown, file: string): string[] {
  const schema = JSON.parse(readFileSync(join(__dirname, '..', schemaFile), 'utf8')) as object;
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  if (validate(rendered)) return [];
  return (validate.errors ?? []).map(
    (e) => `${file}${e.instancePath.replace(/\//g, '.')}: ${e.message}${e.params && 'allowedValue' in e.params ? ` (${String(e.params.allowedValue)})` : ''}`,
  );
}

/** The environment names a deploy file passes to the function. */
export function passedSettings(yamlText: string): string[] {
  return [...yamlText.matchAll(/^ +([A-Z][A-Z0-9_]*): \$\{env\('?\1'?(?:, '')?\)\}$/gm)].map((m) => m[1]!).sort();
}

/**
 * Renders an edition 3.0.0 file with the real `s preview`, offline: a scratch HOME holding a
 * throwaway access (so `${config('AccountID')}` resolves) and the env file as the `.env` that `s`
 * loads beside the YAML. Answers the rendered object, or the CLI's error.
 */
export function renderWithServerlessDevs(yamlText: string, envText: string, accountId: string): { rendered?: unknown; error?: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sls-fwd-s-'));
  try {
    const home = join(dir, 'home');
    mkdirSync(home);
    writeFileSync(join(dir, 's.yaml'), yamlText);
    writeFileSync(join(dir, '.env'), envText);
    const s = join(dirname(require.resolve('@serverless-devs/s/package.json')), 'bin/s');
    const run = (args: string[]) =>
      execFileSync(process.execPath, [s, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: home }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).toString();
    run(['config', 'add', '--AccessKeyID', 'offline-check', '--AccessKeySecret', 'offline-check', '--AccountID', accountId, '-a', 'default', '-f']);
    let out: string;
    try {
      out = run(['preview', '-t', join(dir, 's.yaml'), '-o', 'json']);
    } catch (err) {
      return { error: cliError(`${(err as { stdout?: Buffer }).stdout ?? ''}${(err as { stderr?: Buffer }).stderr ?? ''}`) };
    }
    const start = out.indexOf('\n{');
    const json = out.slice(out.startsWith('{') ? 0 : start + 1);
    if (!json.startsWith('{')) return { error: cliError(out) };
    return { rendered: JSON.parse(json) };
  } finally {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 }); // the CLI may still be writing its cache
  }
}

/** The part of the CLI's report that says what is wrong: its error block, without the log-file footer. */
function cliError(text: string): string {
  const block = /Error Message:\s*\n([\s\S]*?)(?:\n\s*\n\s*(?:A complete log|🍼)|$)/.exec(text)?.[1];
  return (block ?? text).split('\n').map((l) => l.trim()).filter(Boolean).join(' ').slice(0, 500);
}

/** s.yaml (FC 3.0): rendered by `s preview`, then the fc3 schema and the settings it passes. */
export function checkFc3Yaml(yamlText: string, envText: string, accountId: string, configSource: string): CheckResult {
  const { rendered, error } = renderWithServerlessDevs(yamlText, envText, accountId);
  if (error !== undefined) return { rendered: undefined, problems: [`s.yaml does not render with s preview: ${error}`] };
  const problems = [...schemaProblems('s-fc3.schema.json', rendered, 's.yaml'), ...confidentialValues(parseDotenv(envText))];
  const resources = (rendered as { resources?: Record<string, { props?: { environmentVariables?: Record<string, string> } }> }).resources ?? {};
  for (const [name, r] of Object.entries(resources)) problems.push(...settingsProblems(`resources.${name}.props.environmentVariables`, r.props?.environmentVariables ?? {}, configSource, parseDotenv(envText)));
  return { rendered, problems };
}

/** s.fc2.yaml (FC 2.0): rendered here (`s` 3.x cannot preview edition 1.0.0), then its schema and settings. */
export function checkSYaml(sYaml: string, env: Record<string, string>, accountId: string, configSource: string): CheckResult {
  const problems: string[] = confidentialValues(env);
  const uncommented = sYaml.split('\n').filter((line) => !line.trimStart().startsWith('#')).join('\n');
  const referenced = new Set([...uncommented.matchAll(/\$\{env\(([A-Za-z0-9_]+)\)\}/g)].map((m) => m[1]!));
  for (const name of referenced) if (!(name in env)) problems.push(`\${env(${name})} is used in s.fc2.yaml but not defined in the env file`);
  // Edition 1.0.0 has no expressions: whether the file names the layer must match LAYER_ARN.
  if (referenced.has('LAYER_ARN') && !env.LAYER_ARN) {
    problems.push('LAYER_ARN is empty but s.fc2.yaml names ${env(LAYER_ARN)} as a layer: delete its two `layers` lines (the code zip carries the CA certificates), or set LAYER_ARN (npm run publish-layer prints it)');
  }
  if (!referenced.has('LAYER_ARN') && env.LAYER_ARN) {
    problems.push('LAYER_ARN is set but s.fc2.yaml names no layer, so FC 2.0 would deploy without it: add `layers:` with `- ${env(LAYER_ARN)}` under `function:` (edition 1.0.0 has no expressions to do it by itself), or empty LAYER_ARN');
  }

  let parsed: unknown;
  try {
    parsed = yaml.load(sYaml);
  } catch (err) {
    return { rendered: undefined, problems: [...problems, `s.yaml is not valid YAML: ${(err as Error).message.split('\n')[0]}`] };
  }
  // Like Serverless Devs: variables are substituted inside the parsed string values.
  const substitute = (value: unknown, vars: Record<string, unknown>): unknown => {
    if (typeof value === 'string') {
      return value
        .replace(/\$\{env\(([A-Za-z0-9_]+)\)\}/g, (_, n: string) => env[n] ?? '')
        .replace(/\$\{config\(AccountID\)\}/g, accountId)
        .replace(/\$\{vars\.([A-Za-z0-9_]+)\}/g, (_, n: string) => String(vars[n] ?? ''));
    }
    if (Array.isArray(value)) return value.map((v) => substitute(v, vars));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars)]));
    return value;
  };
  const vars = substitute((parsed as { vars?: Record<string, unknown> })?.vars ?? {}, {}) as Record<string, unknown>;
  const rendered = substitute(parsed, vars);
  const leftover = /\$\{[^}]+\}/.exec(JSON.stringify(rendered));
  if (leftover) problems.push(`unresolved variable ${leftover[0]} (only \${env(X)}, \${config(AccountID)} and \${vars.x} are used in s.fc2.yaml)`);

  problems.push(...schemaProblems('s-yaml.schema.json', rendered, 's.fc2.yaml'));
  const services = (rendered as { services?: Record<string, { props?: { function?: { environmentVariables?: Record<string, string> } } }> }).services ?? {};
  for (const [name, svc] of Object.entries(services)) {
    problems.push(...settingsProblems(`services.${name}.props.function.environmentVariables`, svc.props?.function?.environmentVariables ?? {}, configSource, env));
  }
  return { rendered, problems };
}
