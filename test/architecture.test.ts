/**
 * The shape of src/: no import circle between files, and no runtime import from a lower layer to a
 * higher one (type-only imports are erased at build time and may point anywhere, but not in a circle).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const src = join(__dirname, '..', 'src');

/** Lowest first: a file may import at runtime only from its own layer or the ones before it. */
const LAYERS = ['native', 'errors.ts', 'backoff.ts', 'decode', 'format', 'config', 'secrets', 'sls', 'event.ts', 'source-policy.ts', 'transport', 'resume.ts', 'puller.ts', 'ship-summary.ts', 'ship.ts', 'consume', 'check.ts', 'index.ts', 'cli.ts'];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

interface Edge { from: string; to: string; typeOnly: boolean }

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of files(src)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'/gm)) {
      const target = resolve(dirname(file), m[2]!);
      const to = [`${target}.ts`, join(target, 'index.ts')].find((f) => files(src).includes(f));
      assert.ok(to, `${relative(src, file)}: cannot resolve ${m[2]}`);
      out.push({ from: relative(src, file), to: relative(src, to), typeOnly: m[1] !== undefined });
    }
  }
  return out;
}

const layerOf = (file: string) => {
  const i = LAYERS.indexOf(file.split('/')[0]!);
  assert.ok(i >= 0, `${file} belongs to no layer: add it to LAYERS`);
  return i;
};

test('no import circle between files of src/', () => {
  const graph = new Map<string, string[]>();
  for (const e of edges()) graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return;
    assert.notEqual(state.get(file), 'open', `import circle: ${[...path.slice(path.indexOf(file)), file].join(' -> ')}`);
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  assert.ok(graph.size > 30, `the scan found the sources (${graph.size} files import others)`);
});

test('runtime imports go from a higher layer to a lower one (native/ imports nothing above it)', () => {
  const wrong = edges().filter((e) => !e.typeOnly && layerOf(e.to) > layerOf(e.from)).map((e) => `${e.from} -> ${e.to}`);
  assert.deepEqual(wrong, []);
  assert.deepEqual(edges().filter((e) => e.from.startsWith('native/') && !e.to.startsWith('native/')), [], 'native/ stands alone');
});
