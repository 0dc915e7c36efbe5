/**
 * The committed WebAssembly (src/native/kernel-wasm.ts) must be what src/native/*.c compiles
 * to, so a reviewer can trust the C they read. Rebuilds with clang (installed by the test command).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '..');

test('src/native/kernel-wasm.ts is the build of src/native/*.c', () => {
  const work = mkdtempSync(join(os.tmpdir(), 'kernel-build-'));
  try {
    const out = join(work, 'kernel-wasm.ts');
    execFileSync(process.execPath, ['scripts/build-wasm.mjs', '--out', out], { cwd: root, stdio: 'pipe' });
    const rebuilt = readFileSync(out, 'utf8');
    const committed = readFileSync(join(root, 'src/native/kernel-wasm.ts'), 'utf8');
    assert.ok(rebuilt.length > 1000);
    assert.equal(rebuilt, committed, 'src/native/kernel-wasm.ts is stale: run `npm run build:wasm` and commit it');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
