/**
 * Settings that carry a secret. Each comes from exactly one place: the variable itself, a file
 * (`<NAME>_FILE`), or KMS Secrets Manager (`<NAME>_SECRET` = the secret's name, fetched by
 * src/secrets/ before the settings are read). Problems name the setting and what is wrong, never
 * the value: a settings error ends up in FC's logs and in the invoker's answer.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Env, SettingsReader } from './reader';

export interface SecretSetting {
  name: string;
  file: string;
  secret: string;
  /** A value to keep out of the function's configuration (the deploy files pass only the _SECRET and _FILE forms); certificates are public. */
  confidential: boolean;
}

/**
 * Marks an environment whose values for some settings were fetched from KMS: setting -> secret
 * name. A symbol, so it is never taken for an environment variable, and it survives `{ ...env }`.
 */
export const FROM_KMS: unique symbol = Symbol('settings fetched from KMS Secrets Manager');
export type ResolvedEnv = Env & { [FROM_KMS]?: ReadonlyMap<string, string> };

export function fetchedFromKms(env: Env, name: string): string | undefined {
  return (env as ResolvedEnv)[FROM_KMS]?.get(name);
}

/**
 * Whether a `_FILE` value may be repeated in a message: an absolute or `./` path, or a file name
 * with a key or certificate extension, without white space. Anything else may be the secret
 * itself (a passphrase with a slash in it), pasted into the wrong setting.
 */
export function looksLikePath(value: string): boolean {
  return value.length <= 1024 && !/\s|-----/.test(value) && (/^\.?\//.test(value) || /^[\w.-]+\.(pem|crt|cer|der|key|p12|pfx|txt|token)$/i.test(value));
}

/** Reads `<NAME>_FILE` once. The path is named on failure when it looks like one; the content never. */
export function readSettingFile(r: SettingsReader, setting: string, hint: string): string | undefined {
  const file = r.text(setting);
  if (file === undefined) return undefined;
  const named = looksLikePath(file) ? `${setting}="${file}"` : `${setting} (${file.length} characters, not repeated here: it does not look like a path; perhaps the secret itself?)`;
  if (/[\r\n]|-----/.test(file)) {
    r.problems.push(`${named} must name a file, not hold its content. ${hint}`);
    return undefined;
  }
  try {
    return readFileSync(resolve(file), 'utf8');
  } catch (err) {
    r.problems.push(`${named} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}). ${hint}`);
    return undefined;
  }
}

export interface SecretValue {
  /** undefined when missing or wrong (then a problem was reported, unless `given` is false). */
  value: string | undefined;
  /** Whether any of the three places was set. */
  given: boolean;
  /** For messages and the init log: where it came from, never what it is. */
  source: string | undefined;
  fromKms: boolean;
}

/**
 * A secret-bearing setting from exactly one of its places. `trim`: `all` (tokens), `newline` (a
 * passphrase may end in spaces, never in the newline an editor adds), `none` (PEM).
 */
export function readSecret(r: SettingsReader, s: SecretSetting, trim: 'all' | 'newline' | 'none', fileHint: string): SecretValue {
  const kmsName = fetchedFromKms(r.env, s.name);
  const inline = kmsName === undefined ? r.raw(s.name) : undefined;
  const secretName = r.text(s.secret);
  const places = [inline !== undefined && s.name, r.text(s.file) !== undefined && s.file, secretName !== undefined && s.secret].filter((n): n is string => !!n);
  if (places.length > 1) {
    r.problems.push(`${places.join(' and ')} are all set: give ${s.name} one way only (the value, a file with ${s.file}, or a KMS secret with ${s.secret}).`);
    return { value: undefined, given: true, source: undefined, fromKms: false };
  }
  const tidy = (v: string) => (trim === 'all' ? v.trim() : trim === 'newline' ? v.replace(/[\r\n]+$/, '') : v);
  if (kmsName !== undefined) {
    const value = tidy(r.raw(s.name) ?? '');
    if (value === '') r.problems.push(`The KMS secret "${kmsName}" (${s.secret}) is empty: put the ${s.name} value in it.`);
    return { value: value === '' ? undefined : value, given: true, source: `KMS secret "${kmsName}" (${s.secret})`, fromKms: true };
  }
  if (secretName !== undefined) {
    r.problems.push(`${s.secret}="${secretName}" was not fetched from KMS Secrets Manager here: run the function or the worker (or \`check\`), which fetch it.`);
    return { value: undefined, given: true, source: undefined, fromKms: false };
  }
  if (inline !== undefined) return { value: tidy(inline), given: true, source: s.name, fromKms: false };
  if (r.text(s.file) === undefined) return { value: undefined, given: false, source: undefined, fromKms: false };
  const content = readSettingFile(r, s.file, fileHint);
  if (content === undefined) return { value: undefined, given: true, source: undefined, fromKms: false };
  const source = `file ${resolve(r.text(s.file)!)}`;
  if (tidy(content) === '') {
    r.problems.push(`${s.file}: the ${source} is empty: put the ${s.name} value in it.`);
    return { value: undefined, given: true, source, fromKms: false };
  }
  return { value: tidy(content), given: true, source, fromKms: false };
}

