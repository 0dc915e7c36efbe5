/** Syslog headers: RFC 5424 (`<PRI>1 TIMESTAMP HOST APP - - -`) and RFC 3164 (`<PRI>Mmm dd hh:mm:ss HOST TAG:`). */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** RFC 3339 UTC with microseconds (RFC 5424 allows at most six fractional digits). */
export function rfc5424Timestamp(seconds: number, nanos: number): string {
  const d = new Date(seconds * 1000);
  const micros = Math.floor(Math.min(Math.max(nanos, 0), 999_999_999) / 1000);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(micros, 6)}Z`
  );
}

/** RFC 3164 `Mmm dd hh:mm:ss` in UTC; the day is space-padded as the RFC requires. */
export function rfc3164Timestamp(seconds: number): string {
  const d = new Date(seconds * 1000);
  return (
    `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`
  );
}

/** RFC 5424 PRINTUSASCII token (33-126), 1..max chars; anything else becomes `_`, empty becomes `-`. */
export function headerToken(value: string, max: number): string {
  const cleaned = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return cleaned === '' ? '-' : cleaned;
}

/** RFC 3164 TAG: alphanumerics (plus `-_.`, which every receiver accepts), at most 32 chars. */
export function rfc3164Tag(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 32);
  return cleaned === '' ? 'sls' : cleaned;
}

export function priority(facility: number, severity: number): number {
  return facility * 8 + severity;
}
