/**
 * What the shipped bundles contain, from esbuild's metafiles (build/meta/, written by
 * scripts/build.mjs) and package-lock.json: the packages in each bundle, whether package.json
 * declares them as runtime `dependencies`, and a CycloneDX SBOM of them (`npm run sbom`).
 * The metafile, not `npm ls`, is the truth here: a package is shipped only if esbuild put its code
 * into a bundle, whatever the dependency tree says.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of an esbuild metafile read here. */
export interface Metafile {
  inputs: Record<string, { imports: Array<{ path: string; kind: string; original?: string; external?: boolean }> }>;
  outputs: Record<string, { entryPoint?: string; inputs: Record<string, { bytesInOutput: number }> }>;
}

export interface Bundle {
  /** The bundle as shipped, relative to the project root. */
  file: string;
  metafile: Metafile;
}

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  license?: string;
  dev?: boolean;
  devOptional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
export interface Lock {
  packages: Record<string, LockEntry>;
}
export interface PackageJson {
  name: string;
  version: string;
  license?: string;
  description?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** The bundles scripts/build.mjs makes, and where it leaves their metafiles. */
export const BUNDLES = [
  { file: 'dist/index.js', meta: 'build/meta/index.json' },
  { file: 'build/cli/cli.js', meta: 'build/meta/cli.json' },
  { file: 'dist/kms-sdk.js', meta: 'build/meta/kms-sdk.json' },
] as const;

export function readBundles(root: string): Bundle[] {
  return BUNDLES.map(({ file, meta }) => {
    const path = join(root, meta);
    if (!existsSync(path)) throw new Error(`${meta} is missing: run \`npm run build\` first (it writes each bundle's esbuild metafile)`);
    return { file, metafile: JSON.parse(readFileSync(path, 'utf8')) as Metafile };
  });
}

/** `node_modules/a/node_modules/@s/b/lib/x.js` -> `node_modules/a/node_modules/@s/b` (the package-lock key). */
export function packageDir(file: string): string | undefined {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(file);
  return m?.[1];
}

/** `node_modules/a/node_modules/@s/b` -> `@s/b`. */
export function packageName(dir: string): string {
  return dir.slice(dir.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** The input files of a bundle that put bytes into its JavaScript output (not the source map). */
function shippedInputs(metafile: Metafile): string[] {
  const files = new Set<string>();
  for (const [out, o] of Object.entries(metafile.outputs)) {
    if (!out.endsWith('.js')) continue;
    for (const [input, { bytesInOutput }] of Object.entries(o.inputs)) if (bytesInOutput > 0) files.add(input);
  }
  return [...files].sort();
}

export interface BundledPackage {
  /** The package-lock key: where npm installed it. */
  dir: string;
  name: string;
  /** From package-lock.json; undefined when the lock does not know the package. */
  version: string | undefined;
  /** The bundles it is part of. */
  bundles: string[];
  /** Who imports it: first-party files (src/...) or other packages' dirs. */
  importers: string[];
}

export function bundledPackages(bundles: Bundle[], lock: Lock): BundledPackage[] {
  const byDir = new Map<string, BundledPackage>();
  for (const b of bundles) {
    const shipped = new Set(shippedInputs(b.metafile));
    for (const file of shipped) {
      const dir = packageDir(file);
      if (!dir) continue;
      const p = byDir.get(dir) ?? { dir, name: packageName(dir), version: lock.packages[dir]?.version, bundles: [], importers: [] };
      if (!p.bundles.includes(b.file)) p.bundles.push(b.file);
      byDir.set(dir, p);
    }
    for (const [from, input] of Object.entries(b.metafile.inputs)) {
      if (!shipped.has(from)) continue;
      const fromDir = packageDir(from);
      for (const imp of input.imports) {
        const dir = imp.external ? undefined : packageDir(imp.path);
        const p = dir && dir !== fromDir ? byDir.get(dir) : undefined;
        const importer = fromDir ?? from;
        if (p && !p.importers.includes(importer)) p.importers.push(importer);
      }
    }
  }
  return [...byDir.values()].sort((a, b) => (a.dir < b.dir ? -1 : 1));
}

/**
 * Why the bundles are not fully declared, one line per package: a package imported by our own
 * code must be in package.json `dependencies`, and every bundled package must be installed by
 * `npm ci --omit=dev` (package-lock.json does not mark it dev-only).
 */
export function undeclaredPackages(bundles: Bundle[], pkg: PackageJson, lock: Lock): string[] {
  const problems: string[] = [];
  const declared = new Set(Object.keys(pkg.dependencies ?? {}));
  for (const p of bundledPackages(bundles, lock)) {
    const where = `is bundled into ${p.bundles.join(' and ')}`;
    const own = p.importers.filter((i) => !i.startsWith('node_modules/'));
    if (own.length > 0 && !declared.has(p.name)) {
      const dev = pkg.devDependencies?.[p.name] !== undefined;
      problems.push(`${p.name} ${where} (imported by ${own.join(', ')}) but is not in package.json "dependencies"${dev ? ' (it is a devDependency: move it)' : ''}`);
      continue;
    }
    const entry = lock.packages[p.dir];
    if (!entry) problems.push(`${p.name} ${where} but package-lock.json has no ${p.dir}: run \`npm install\``);
    else if (entry.dev || entry.devOptional) {
      // A package that requires something it does not declare (a phantom dependency) gets
      // whatever a devDependency happened to hoist: then the fix is to declare it ourselves.
      const phantom = p.importers.filter((i) => {
        const e = lock.packages[i];
        return e !== undefined && !e.dev && !e.devOptional && !Object.keys({ ...e.dependencies, ...e.optionalDependencies, ...e.peerDependencies }).includes(p.name);
      });
      const fix = phantom.length > 0
        ? `${phantom.map(packageName).join(', ')} require${phantom.length === 1 ? 's' : ''} it without declaring it: add ${p.name} to package.json "dependencies"`
        : 'declare the package that needs it in package.json "dependencies"';
      problems.push(`${p.name}@${entry.version} ${where} (imported by ${p.importers.join(', ')}) but only devDependencies bring it in: ${fix}`);
    }
  }
  return problems;
}

/** Runtime dependencies that no bundle contains (nor the FC layer, whose packages are external). */
export function unbundledDependencies(bundles: Bundle[], pkg: PackageJson, lock: Lock, layerDependencies: string[]): string[] {
  const bundled = new Set(bundledPackages(bundles, lock).filter((p) => !p.dir.includes('/node_modules/')).map((p) => p.name));
  return Object.keys(pkg.dependencies ?? {}).filter((name) => !bundled.has(name) && !layerDependencies.includes(name));
}

/** Package URL of an npm package: the scope's `@` is percent-encoded (purl spec). */
export function npmPurl(name: string, version: string): string {
  return `pkg:npm/${name.startsWith('@') ? `%40${name.slice(1)}` : name}@${version}`;
}

/** `sha512-<base64>` -> CycloneDX hashes. */
function hashes(integrity: string | undefined): Array<{ alg: string; content: string }> {
  const algs: Record<string, string> = { sha512: 'SHA-512', sha384: 'SHA-384', sha256: 'SHA-256', sha1: 'SHA-1' };
  return (integrity ?? '').split(/\s+/).flatMap((i) => {
    const m = /^(sha512|sha384|sha256|sha1)-(.+)$/.exec(i);
    return m ? [{ alg: algs[m[1]!]!, content: Buffer.from(m[2]!, 'base64').toString('hex') }] : [];
  });
}

/** A deterministic urn:uuid (version 5 layout) from the BOM's content: the same bundles give the same SBOM. */
function contentUuid(data: string): string {
  const h = createHash('sha256').update(data).digest('hex').split('');
  h[12] = '5';
  h[16] = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  const s = h.join('');
  return `urn:uuid:${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

/** Where Node's resolution from `dir` finds `name`: nested node_modules first, then each parent's. */
function resolveFrom(dir: string, name: string, lock: Lock): string | undefined {
  let base = dir;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!base) return undefined;
    const i = base.lastIndexOf('/node_modules/');
    base = i < 0 ? '' : base.slice(0, i);
  }
}

export interface SbomOptions {
  bundles: Bundle[];
  pkg: PackageJson;
  lock: Lock;
  /** esbuild's version, named as the tool that made the bundles. */
  esbuildVersion: string;
  /** License field -> CycloneDX license choice (an SPDX id, an SPDX expression, or a plain name). */
  license: (text: string) => Record<string, unknown>;
  /** The FC layer's packages (layer/package-lock.json), shipped beside the code; none by default. */
  layerLock?: Lock;
}

/** A CycloneDX 1.6 JSON BOM of the shipped bundles (and layer packages, if any). No timestamp: reproducible. */
export function cycloneDxSbom(o: SbomOptions): Record<string, unknown> {
  interface Node { dir: string; lock: Lock; bundles: string[] }
  const byPurl = new Map<string, { name: string; version: string; entry: LockEntry; nodes: Node[] }>();
  const add = (dir: string, lock: Lock, bundles: string[]) => {
    const entry = lock.packages[dir];
    if (!entry?.version) throw new Error(`package-lock.json has no version for ${dir}: run \`npm install\``);
    const name = packageName(dir);
    const purl = npmPurl(name, entry.version);
    const c = byPurl.get(purl) ?? { name, version: entry.version, entry, nodes: [] };
    c.nodes.push({ dir, lock, bundles });
    byPurl.set(purl, c);
  };
  const bundled = bundledPackages(o.bundles, o.lock);
  for (const p of bundled) add(p.dir, o.lock, p.bundles);
  for (const [dir, entry] of Object.entries(o.layerLock?.packages ?? {})) if (dir && !entry.dev) add(dir, o.layerLock!, ['layer.zip']);

  const shipped = new Map<string, string>(); // lock identity (layer or root) + dir -> purl
  const key = (lock: Lock, dir: string) => `${lock === o.lock ? 'root' : 'layer'}:${dir}`;
  for (const [purl, c] of byPurl) for (const n of c.nodes) shipped.set(key(n.lock, n.dir), purl);

  const rootRef = npmPurl(o.pkg.name, o.pkg.version);
  const components = [...byPurl].sort(([a], [b]) => (a < b ? -1 : 1)).map(([purl, c]) => ({
    type: 'library',
    'bom-ref': purl,
    name: c.name,
    version: c.version,
    scope: 'required',
    ...(c.entry.license ? { licenses: [o.license(c.entry.license)] } : {}),
    ...(hashes(c.entry.integrity).length ? { hashes: hashes(c.entry.integrity) } : {}),
    purl,
    ...(c.entry.resolved ? { externalReferences: [{ type: 'distribution', url: c.entry.resolved }] } : {}),
    properties: [
      ...c.nodes.map((n) => ({ name: 'cdx:npm:package:path', value: n.dir })),
      ...[...new Set(c.nodes.flatMap((n) => n.bundles))].sort().map((b) => ({ name: 'sls-syslog-forwarder:bundle', value: b })),
    ],
  }));
  const dependencies = [
    {
      ref: rootRef,
      dependsOn: [...new Set(bundled.filter((p) => !p.dir.includes('/node_modules/') && o.pkg.dependencies?.[p.name] !== undefined).map((p) => shipped.get(key(o.lock, p.dir))!))].sort(),
    },
    ...[...byPurl].sort(([a], [b]) => (a < b ? -1 : 1)).map(([purl, c]) => {
      const on = new Set<string>();
      for (const n of c.nodes) {
        const entry = n.lock.packages[n.dir]!;
        for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
          const at = resolveFrom(n.dir, dep, n.lock);
          const ref = at && shipped.get(key(n.lock, at));
          if (ref && ref !== purl) on.add(ref);
        }
      }
      return { ref: purl, dependsOn: [...on].sort() };
    }),
  ];
  const body = {
    metadata: {
      lifecycles: [{ phase: 'build' }],
      tools: { components: [{ type: 'application', name: 'esbuild', version: o.esbuildVersion, purl: npmPurl('esbuild', o.esbuildVersion) }] },
      component: {
        type: 'application',
        'bom-ref': rootRef,
        name: o.pkg.name,
        version: o.pkg.version,
        ...(o.pkg.description ? { description: o.pkg.description } : {}),
        ...(o.pkg.license ? { licenses: [o.license(o.pkg.license)] } : {}),
        purl: rootRef,
        properties: o.bundles.map((b) => ({ name: 'sls-syslog-forwarder:bundle', value: b.file })),
      },
    },
    components,
    dependencies,
  };
  return { bomFormat: 'CycloneDX', specVersion: '1.6', serialNumber: contentUuid(JSON.stringify(body)), version: 1, ...body };
}
