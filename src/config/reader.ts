/** Reads environment variables and collects every problem, so one error lists them all. */

export type Env = Record<string, string | undefined>;

export class SettingsReader {
  readonly problems: string[] = [];
  /** `env` is public for the secret-bearing settings, which also ask where a value came from (config/secrets.ts). */
  constructor(readonly env: Env) {}

  /** The value, or undefined when unset or blank (an unset `${env()}` in s.yaml arrives blank). */
  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  }

  text(name: string): string | undefined {
    return this.raw(name)?.trim();
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.text(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name}="${value}" is not one of: ${allowed.join(', ')}.`);
    return fallback;
  }

  flag(name: string, fallback: boolean): boolean {
    const value = this.text(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['on', 'true', 'yes', '1'].includes(value)) return true;
    if (['off', 'false', 'no', '0'].includes(value)) return false;
    this.problems.push(`${name}="${value}" must be on or off (true/false).`);
    return fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.text(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      this.problems.push(`${name}="${value}" must be a whole number from ${min} to ${max}.`);
      return fallback;
    }
    return n;
  }

  /** A number 0..max or a name from the table (facility, severity). */
  named(name: string, table: Record<string, number>, fallback: number, max: number): number {
    const value = this.text(name)?.toLowerCase();
    if (value === undefined) return fallback;
    const n = lookupNamed(value, table, max);
    if (n !== undefined) return n;
    this.problems.push(`${name}="${value}" is neither a number 0-${max} nor one of: ${Object.keys(table).join(', ')}.`);
    return fallback;
  }

  /** A syslog header field: printable US-ASCII without spaces (RFC 5424 PRINTUSASCII). */
  headerToken(name: string, maxLength: number): string | undefined {
    const value = this.text(name);
    if (value === undefined) return undefined;
    if (!/^[\x21-\x7e]+$/.test(value) || value.length > maxLength) {
      this.problems.push(`${name}="${value}" must be 1-${maxLength} printable ASCII characters without spaces (RFC 5424).`);
      return undefined;
    }
    return value;
  }

  /** Comma-separated list; blanks dropped. */
  list(name: string): string[] {
    return (this.raw(name) ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  }

  /** `a:b,c:d` pairs (split at the LAST colon, so keys such as `__tag__:x` work). */
  pairs(name: string): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const item of this.list(name)) {
      const at = item.lastIndexOf(':');
      if (at <= 0 || at === item.length - 1) {
        this.problems.push(`${name}: "${item}" is not "from:to" (e.g. ${name}=block:warning,pass:info).`);
        continue;
      }
      out.push([item.slice(0, at), item.slice(at + 1)]);
    }
    return out;
  }
}

export function lookupNamed(value: string, table: Record<string, number>, max: number): number | undefined {
  if (/^\d+$/.test(value) && Number(value) <= max) return Number(value);
  return table[value.toLowerCase()];
}
