/** The one backoff rule: bounds of both jitters, the cap, and that it grows. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../src/backoff';

test('backoff: full jitter in [0, step], equal jitter in [step/2, step], step = min(cap, base * 2^attempt)', () => {
  const b = { baseMs: 250, capMs: 4_000 };
  for (let attempt = 0; attempt < 12; attempt++) {
    const step = Math.min(4_000, 250 * 2 ** attempt);
    assert.equal(backoffDelay(attempt, { ...b, jitter: 'full' }, () => 0), 0);
    assert.equal(backoffDelay(attempt, { ...b, jitter: 'full' }, () => 0.999999), Math.round(step * 0.999999));
    assert.equal(backoffDelay(attempt, { ...b, jitter: 'equal' }, () => 0), Math.round(step / 2));
    assert.equal(backoffDelay(attempt, { ...b, jitter: 'equal' }, () => 1), step);
  }
  assert.equal(backoffDelay(30, { ...b, jitter: 'equal' }, () => 1), 4_000, 'capped, however many attempts');
});
