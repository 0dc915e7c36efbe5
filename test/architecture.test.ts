/**
 * The shape of src/: no import circle between files, no import (runtime or type) from a lower layer
 * to a higher one, outputs as plug-ins (no output's name or transport class outside its folder and
 * the registry), and no source file over 400 lines.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const src = join(__dirname, '..', 'src');

/** Lowest first: a file may import at runtime only from its own layer or the ones before it. */
const LAYERS = ['native', 'errors.ts', 'backoff.ts', 'config', 'decode', 'format', 'sls', 'secrets', 'outputs', 'event.ts', 'source-policy.ts', 'ship', 'settings', 'consume', 'check.ts', 'index.ts', 'cli.ts'];

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

test('imports, runtime and type alike, go from a higher layer to a lower one (native/ imports nothing above it)', () => {
  const wrong = edges().filter((e) => layerOf(e.to) > layerOf(e.from)).map((e) => `${e.from} -> ${e.to}${e.typeOnly ? ' (type)' : ''}`);
  assert.deepEqual(wrong, []);
  assert.deepEqual(edges().filter((e) => e.from.startsWith('native/') && !e.to.startsWith('native/')), [], 'native/ stands alone');
});

/** Where an output's name may be written: its own folder, and the registry. */
const OUTPUT_FOLDERS: Record<string, string> = { syslog: 'outputs/syslog/', 'splunk-hec': 'outputs/splunk-hec/' };

test('outputs are plug-ins: no output name tested and no transport class named outside src/outputs/', () => {
  const registry = readFileSync(join(src, 'outputs', 'registry.ts'), 'utf8');
  for (const name of Object.keys(outputFoldersChecked())) assert.ok(registry.includes(`${name}Output`) || registry.includes(name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())), `the registry lists ${name}`);
  const wrong: string[] = [];
  for (const file of files(src)) {
    const rel = relative(src, file);
    if (rel.startsWith('native/')) continue;
    const text = readFileSync(file, 'utf8');
    for (const [name, folder] of Object.entries(OUTPUT_FOLDERS)) {
      if (!rel.startsWith(folder) && rel !== 'outputs/registry.ts' && new RegExp(`['"\`]${name}['"\`]`).test(text)) wrong.push(`${rel} names the output "${name}"`);
    }
    if (!rel.startsWith('outputs/') && /instanceof\s+\w*(Transport|Output)\b/.test(text)) wrong.push(`${rel} tests an output's class (instanceof)`);
  }
  assert.deepEqual(wrong, []);
});

function outputFoldersChecked(): Record<string, string> {
  // Every folder under src/outputs/ is an output the test knows about.
  const folders = readdirSync(join(src, 'outputs'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  assert.deepEqual(folders, Object.keys(OUTPUT_FOLDERS).sort(), 'each output folder is listed in OUTPUT_FOLDERS');
  return OUTPUT_FOLDERS;
}

test('no source file is over 400 lines (the generated kernel-wasm.ts aside)', () => {
  const long = files(src)
    .filter((f) => !f.endsWith('kernel-wasm.ts'))
    .map((f) => ({ file: relative(src, f), lines: readFileSync(f, 'utf8').split('\n').length }))
    .filter((f) => f.lines > 400);
  assert.deepEqual(long, []);
});
