/**
 * The declared supply chain: what esbuild put into the shipped bundles (their metafiles, written by
 * `npm run build`) is exactly what package.json declares as `dependencies`, so that
 * `npm ls --omit=dev` names what runs; `npm run sbom` describes those packages as a valid
 * CycloneDX BOM; and the deploy's `npm ci --ignore-scripts` builds the very same bundles.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import {
  bundledPackages, npmPurl, readBundles, unbundledDependencies, undeclaredPackages, type Bundle, type Lock, type PackageJson,
} from '../scripts/lib/supply-chain';

const root = join(__dirname, '..');
const readJson = <T>(f: string) => JSON.parse(readFileSync(join(root, f), 'utf8')) as T;
const pkg = readJson<PackageJson>('package.json');
const lock = readJson<Lock>('package-lock.json');
const layerDependencies = Object.keys(readJson<PackageJson>('layer/package.json').dependencies ?? {});

test('every package in a bundle is declared: imported by our code -> in "dependencies"; all of them installed by npm ci --omit=dev', () => {
  const bundles = readBundles(root);
  const found = bundledPackages(bundles, lock);
  assert.ok(found.some((p) => p.name === 'prom-client'), 'the metafiles are read (the worker bundles prom-client)');
  const problems = undeclaredPackages(bundles, pkg, lock);
  assert.deepEqual(problems, [], `undeclared packages in the bundles:\n${problems.join('\n')}`);
});

test('every runtime dependency is in a bundle (or the FC layer): "dependencies" lists nothing that does not run', () => {
  const unused = unbundledDependencies(readBundles(root), pkg, lock, layerDependencies);
  assert.deepEqual(unused, [], `in package.json "dependencies" but in no bundle: ${unused.join(', ')} (move to devDependencies, or import it)`);
});

test('npm itself agrees: `npm ls --omit=dev` installs every bundled package', () => {
  // stdout even when npm ls exits 1 (an extraneous package in a developer's node_modules).
  const ls = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' });
  const installed = new Set(ls.stdout.trim().split('\n').map((p) => p.slice(root.length + 1)));
  const missing = bundledPackages(readBundles(root), lock).filter((p) => !installed.has(p.dir)).map((p) => p.dir);
  assert.deepEqual(missing, [], 'bundled but not in the production tree');
});

test('the check names a package a bundle contains without declaring it', () => {
  const [index, cli] = readBundles(root) as [Bundle, Bundle];
  // The worker bundle as if src/cli.ts imported a devDependency, prom-client required an
  // undeclared package, and something unknown to the lock file were bundled.
  const meta = structuredClone(cli.metafile);
  const out = Object.values(meta.outputs).find((o) => o.entryPoint)!;
  const addInput = (file: string, importer: string) => {
    meta.inputs[file] = { imports: [] };
    meta.inputs[importer]!.imports.push({ path: file, kind: 'require-call', original: file.split('/')[1] });
    out.inputs[file] = { bytesInOutput: 100 };
  };
  addInput('node_modules/js-yaml/index.js', 'src/cli.ts');
  addInput('node_modules/ajv-formats-draft2019/index.js', 'node_modules/prom-client/index.js');
  addInput('node_modules/left-pad/index.js', 'node_modules/prom-client/index.js');
  const problems = undeclaredPackages([index, { file: cli.file, metafile: meta }], pkg, lock);
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.match(problems[0]!, /^ajv-formats-draft2019@[\d.]+ is bundled into build\/cli\/cli\.js .*only devDependencies bring it in: prom-client requires it without declaring it: add ajv-formats-draft2019 to package.json "dependencies"/);
  assert.match(problems[1]!, /^js-yaml is bundled into build\/cli\/cli\.js \(imported by src\/cli\.ts\) but is not in package\.json "dependencies" \(it is a devDependency: move it\)/);
  assert.match(problems[2]!, /^left-pad is bundled into build\/cli\/cli\.js but package-lock\.json has no node_modules\/left-pad/);
  // And the other way round: a runtime dependency no bundle contains.
  assert.ok(unbundledDependencies(readBundles(root), { ...pkg, dependencies: { ...pkg.dependencies, 'js-yaml': '^4' } }, lock, layerDependencies).includes('js-yaml'));
});

test('npm run sbom: a valid CycloneDX 1.6 BOM naming every bundled package with its version and purl, reproducible', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sls-fwd-sbom-'));
  const sbom = (out: string) => {
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/sbom.ts', '--out', out], { cwd: root, stdio: 'pipe' });
    return readFileSync(out, 'utf8');
  };
  const text = sbom(join(dir, 'a.json'));
  assert.equal(sbom(join(dir, 'b.json')), text, 'the same bundles give the same bytes');
  // The official schema (bom-1.6 with its SPDX and JSF parts), through ajv.
  const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
  assert.equal(await validator.validate(text), null);
  assert.notEqual(await validator.validate(text.replace('"type": "library"', '"type": "npm-package"')), null, 'the validator does reject a broken BOM');

  type Component = { 'bom-ref': string; name: string; version: string; purl: string; hashes?: unknown[]; licenses?: unknown[]; properties: Array<{ name: string; value: string }> };
  const bom = JSON.parse(text) as { bomFormat: string; specVersion: string; metadata: { component: { purl: string } }; components: Component[]; dependencies: Array<{ ref: string; dependsOn: string[] }> };
  assert.equal(bom.bomFormat, 'CycloneDX');
  assert.equal(bom.specVersion, '1.6');
  assert.equal(bom.metadata.component.purl, `pkg:npm/sls-syslog-forwarder@${pkg.version}`);
  const bundled = bundledPackages(readBundles(root), lock);
  const byPurl = new Map(bom.components.map((c) => [c.purl, c]));
  for (const p of bundled) {
    const purl = npmPurl(p.name, p.version!);
    const c = byPurl.get(purl);
    assert.ok(c, `${p.dir} (${purl}) is in the SBOM`);
    assert.equal(c.name, p.name);
    assert.equal(c.version, p.version);
    assert.ok(c.properties.some((x) => x.name === 'cdx:npm:package:path' && x.value === p.dir), `${purl} says where it was installed`);
    for (const b of p.bundles) assert.ok(c.properties.some((x) => x.name === 'sls-syslog-forwarder:bundle' && x.value === b), `${purl} says it is in ${b}`);
    assert.ok(c.hashes?.length && c.licenses?.length, `${purl} has the lock file's hash and license`);
  }
  assert.equal(byPurl.size, new Set(bundled.map((p) => npmPurl(p.name, p.version!))).size, 'and nothing that is not bundled');
  assert.equal(byPurl.get('pkg:npm/%40alicloud/credentials@' + lock.packages['node_modules/@alicloud/credentials']!.version)?.name, '@alicloud/credentials', 'a scoped name is percent-encoded in the purl');
  // The dependency graph only refers to what the BOM describes.
  const refs = new Set([bom.metadata.component.purl, ...byPurl.keys()]);
  for (const d of bom.dependencies) for (const r of [d.ref, ...d.dependsOn]) assert.ok(refs.has(r), `dependency ref ${r}`);
  rmSync(dir, { recursive: true, force: true });
});

test('s.yaml and s.fc2.yaml install with --ignore-scripts, and that install packages byte-identical bundles', (t) => {
  for (const f of ['s.yaml', 's.fc2.yaml']) {
    assert.match(readFileSync(join(root, f), 'utf8'), /- run: npm ci --ignore-scripts .*&& npm run package/, `${f} pre-deploy`);
  }
  // No bundled package has an install script: skipping them cannot change what runs.
  const scripted = Object.entries(lock.packages).filter(([, e]) => (e as { hasInstallScript?: boolean }).hasInstallScript).map(([dir]) => dir);
  const bundledDirs = new Set(bundledPackages(readBundles(root), lock).map((p) => p.dir));
  assert.deepEqual(scripted.filter((d) => bundledDirs.has(d)), []);
  t.diagnostic(`install scripts skipped: ${scripted.join(', ')}`);

  // A fresh copy of the project (what git would check out, plus untracked files), installed as the deploy does.
  const clone = mkdtempSync(join(tmpdir(), 'sls-fwd-ignore-scripts-'));
  try {
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const f of files) {
      try {
        mkdirSync(dirname(join(clone, f)), { recursive: true });
        cpSync(join(root, f), join(clone, f));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // deleted in the work tree, still in the index
      }
    }
    execFileSync('npm', ['ci', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: clone, stdio: 'pipe', timeout: 300_000 });
    // esbuild's postinstall would have replaced its JavaScript launcher with the native binary.
    assert.match(readFileSync(join(clone, 'node_modules/esbuild/bin/esbuild'), 'utf8').slice(0, 40), /^#!\/usr\/bin\/env node/, 'esbuild\'s install script did not run');
    // What the pre-deploy step runs next: esbuild, then tsx (itself esbuild-based) for the zips.
    const bundles = ['dist/index.js', 'build/cli/cli.js', 'build/code.zip'];
    const build = () => {
      execFileSync('npm', ['run', 'package', '--silent'], { cwd: clone, stdio: 'pipe' });
      return bundles.map((f) => createHash('sha256').update(readFileSync(join(clone, f))).digest('hex'));
    };
    const without = build();
    // The same copy once esbuild's install script has run: the bundles must not change.
    execFileSync('npm', ['rebuild', 'esbuild'], { cwd: clone, stdio: 'pipe' });
    assert.doesNotMatch(readFileSync(join(clone, 'node_modules/esbuild/bin/esbuild')).subarray(0, 40).toString('latin1'), /^#!/, 'now the native binary');
    assert.deepEqual(build(), without, `${bundles.join(' and ')}: the same bytes with and without install scripts`);
  } finally {
    rmSync(clone, { recursive: true, force: true });
  }
});
