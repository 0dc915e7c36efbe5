/**
 * Offline check of s.yaml: render the variables Serverless Devs would (`${env(X)}`,
 * `${config(AccountID)}`, `${vars.x}`), validate against scripts/s-yaml.schema.json, and
 * cross-check that every setting the function reads is passed through and every variable is defined.
 */
import Ajv from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';

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

/** The source of src/config/, the only place the function reads environment variables. */
export function configSources(root: string): string {
  const dir = join(root, 'src/config');
  return readdirSync(dir).filter((f) => f.endsWith('.ts')).sort().map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
}

/** The environment variable names the function reads. */
export function settingsReadByFunction(configSource: string): string[] {
  return [...new Set([...configSource.matchAll(/\b((?:SYSLOG|SLS|SPLUNK_HEC)_[A-Z0-9_]*[A-Z0-9]|OUTPUT)\b/g)].map((m) => m[1]!))].sort();
}

export function checkSYaml(sYaml: string, env: Record<string, string>, accountId: string, configSource: string): CheckResult {
  const problems: string[] = [];
  const referenced = new Set([...sYaml.matchAll(/\$\{env\(([A-Za-z0-9_]+)\)\}/g)].map((m) => m[1]!));
  for (const name of referenced) if (!(name in env)) problems.push(`\${env(${name})} is used in s.yaml but not defined in the env file`);

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
  if (leftover) problems.push(`unresolved variable ${leftover[0]} (only \${env(X)}, \${config(AccountID)} and \${vars.x} are used here)`);

  const schema = JSON.parse(readFileSync(join(__dirname, '../s-yaml.schema.json'), 'utf8')) as object;
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);
  if (!validate(rendered)) {
    for (const e of validate.errors ?? []) problems.push(`s.yaml${e.instancePath.replace(/\//g, '.')}: ${e.message}${e.params && 'allowedValue' in e.params ? ` (${String(e.params.allowedValue)})` : ''}`);
  }

  const services = (rendered as { services?: Record<string, { props?: { function?: { environmentVariables?: Record<string, string> } } }> }).services ?? {};
  for (const [name, svc] of Object.entries(services)) {
    const vars = svc.props?.function?.environmentVariables ?? {};
    for (const setting of settingsReadByFunction(configSource)) {
      if (!(setting in vars)) problems.push(`services.${name}.props.function.environmentVariables lacks ${setting}, which the function reads`);
    }
    const size = Object.entries(vars).reduce((n, [k, v]) => n + k.length + String(v).length, 0);
    if (size > 4096) problems.push(`environment variables total ${size} bytes; FC allows 4 KB (put the CA in the layer: SYSLOG_TLS_CA_FILE=/opt/certs/...)`);
  }
  return { rendered, problems };
}
