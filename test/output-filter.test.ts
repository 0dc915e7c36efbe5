/** OUTPUT_FILTER: parsing, and which records it keeps (the fan-out test routes through it end to end). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SettingsReader } from '../src/config/reader';
import type { Field } from '../src/decode/log-group';
import { readFilter } from '../src/format/filter';

function filter(text: string) {
  const r = new SettingsReader({ OUTPUT_FILTER: text });
  const f = readFilter(r);
  return { f, problems: r.problems };
}

const rec = (...pairs: Array<[string, string]>): Field[] => pairs;

test('field!=value keeps the others and records without the field; field=a|b keeps either; * and case', () => {
  const notPass = filter('final_action!=pass').f!;
  assert.equal(notPass.keeps(rec(['final_action', 'block'])), true);
  assert.equal(notPass.keeps(rec(['final_action', 'pass'])), false);
  assert.equal(notPass.keeps(rec(['final_action', 'PASS'])), false, 'case ignored');
  assert.equal(notPass.keeps(rec(['other', 'x'])), true, 'no field: != holds');
  const either = filter('status=4*|5*').f!;
  assert.equal(either.keeps(rec(['status', '404'])), true);
  assert.equal(either.keeps(rec(['status', '503'])), true);
  assert.equal(either.keeps(rec(['status', '200'])), false);
  assert.equal(either.keeps(rec()), false, 'no field: = fails');
  const both = filter('final_action=block, __topic__ = waf').f!;
  assert.equal(both.keeps(rec(['final_action', 'block'], ['__topic__', 'waf'])), true);
  assert.equal(both.keeps(rec(['final_action', 'block'], ['__topic__', 'other'])), false, 'every condition must hold');
  assert.deepEqual(both.fields, ['final_action', '__topic__']);
  assert.equal(filter('host=a.b').f!.keeps(rec(['host', 'axb'])), false, 'a dot is a dot, not a pattern');
});

test('a condition that is not field=value or field!=value is a settings problem naming the setting', () => {
  for (const bad of ['final_action', 'final_action=', '=block', 'a<b']) {
    const { problems } = filter(bad);
    assert.equal(problems.length, 1, bad);
    assert.match(problems[0]!, /^OUTPUT_FILTER: ".*" is not field=value or field!=value/);
  }
  assert.equal(filter('   ').f, undefined, 'blank: no filter');
});
