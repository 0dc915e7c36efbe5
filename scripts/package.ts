/**
 * `npm run package`: builds the two artifacts FC takes, reproducibly.
 *   build/code.zip   dist/ at the zip root (index.js = `index.handler`) + certs/*.pem: what
 *                    `s deploy` uploads (s.yaml `code`, s.fc2.yaml `codeUri`), so a deployment
 *                    without a layer finds the CA at /code/certs
 *   build/layer.zip  nodejs/node_modules (layer/package.json dependencies) + certs/*.pem (/opt/certs)
 * Options: --out DIR (default build), --certs DIR (default layer/certs).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createZip, treeEntries, type ZipEntry } from './lib/zip';

const root = resolve(__dirname, '..');

export interface Artifacts {
  codeZip: string;
  layerZip: string;
}

/** The CA certificates to ship (`certs/*.pem`); a private key among them is refused. */
function caEntries(certsDir: string): ZipEntry[] {
  if (!existsSync(certsDir)) return [];
  const pems = readdirSync(certsDir).filter((f) => f.endsWith('.pem')).sort();
  const entries: ZipEntry[] = pems.length > 0 ? [{ name: 'certs/', data: Buffer.alloc(0) }] : [];
  for (const f of pems) {
    const data = readFileSync(join(certsDir, f));
    if (/PRIVATE KEY/.test(data.toString('latin1'))) throw new Error(`${join(certsDir, f)} contains a private key: only CA certificates belong in the code package and the layer`);
    entries.push({ name: `certs/${f}`, data });
  }
  return entries;
}

function layerEntries(certsDir: string): ZipEntry[] {
  const manifest = JSON.parse(readFileSync(join(root, 'layer/package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const entries: ZipEntry[] = [{ name: 'nodejs/', data: Buffer.alloc(0) }, { name: 'nodejs/node_modules/', data: Buffer.alloc(0) }];
  entries.push({ name: 'nodejs/package.json', data: readFileSync(join(root, 'layer/package.json')) });
  if (Object.keys(manifest.dependencies ?? {}).length > 0) {
    const stage = mkdtempSync(join(tmpdir(), 'sls-fwd-layer-'));
    try {
      copyFileSync(join(root, 'layer/package.json'), join(stage, 'package.json'));
      if (!existsSync(join(root, 'layer/package-lock.json'))) throw new Error('layer/package-lock.json is missing: run `npm install --prefix layer` and commit the lock file');
      copyFileSync(join(root, 'layer/package-lock.json'), join(stage, 'package-lock.json'));
      execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: stage, stdio: 'inherit' });
      entries.push(...treeEntries(join(stage, 'node_modules'), 'nodejs/node_modules/').filter((e) => !e.name.endsWith('.package-lock.json')));
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  }
  entries.push(...caEntries(certsDir));
  return entries;
}

export function packageArtifacts(outDir: string, certsDir: string): Artifacts {
  if (!existsSync(join(root, 'dist/index.js'))) throw new Error('dist/index.js is missing: run `npm run build` first');
  mkdirSync(outDir, { recursive: true });
  const codeZip = join(outDir, 'code.zip');
  const layerZip = join(outDir, 'layer.zip');
  writeFileSync(codeZip, createZip([...treeEntries(join(root, 'dist')), ...caEntries(certsDir)]));
  writeFileSync(layerZip, createZip(layerEntries(certsDir)));
  return { codeZip, layerZip };
}

if (require.main === module) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, 'build') }, certs: { type: 'string', default: join(root, 'layer/certs') } } });
  const out = packageArtifacts(resolve(values.out!), resolve(values.certs!));
  for (const file of [out.codeZip, out.layerZip]) {
    const data = readFileSync(file);
    console.log(`${file}  ${data.length} bytes  sha256 ${createHash('sha256').update(data).digest('hex')}`);
  }
}
