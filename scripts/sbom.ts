/**
 * `npm run sbom`: a CycloneDX 1.6 JSON SBOM of what ships, i.e. the packages esbuild put into
 * dist/index.js (FC) and build/cli/cli.js (the worker, the container image), plus the FC layer's
 * packages if layer/package.json has any. Taken from the build's metafiles rather than `npm sbom`,
 * which lists the installed tree, not what the bundles contain. Reproducible: no timestamp, and
 * the serial number is derived from the content.
 * Options: --out FILE (default build/sbom.cdx.json).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SPDX } from '@cyclonedx/cyclonedx-library';
import { parseFlags } from './lib/cloud';
import { cycloneDxSbom, readBundles, type Lock, type PackageJson } from './lib/supply-chain';

const root = resolve(__dirname, '..');

/** npm's `license` field as CycloneDX wants it: an SPDX id, an SPDX expression, or else a name. */
export function licenseChoice(text: string): Record<string, unknown> {
  if (/\s(AND|OR|WITH)\s/.test(text)) return { expression: text.replace(/^\((.*)\)$/, '$1') };
  return SPDX.isSupportedSpdxId(text) ? { license: { id: text } } : { license: { name: text } };
}

export function makeSbom(): Record<string, unknown> {
  const read = <T>(f: string) => JSON.parse(readFileSync(join(root, f), 'utf8')) as T;
  const layer = read<PackageJson>('layer/package.json');
  const layerLock = Object.keys(layer.dependencies ?? {}).length > 0 && existsSync(join(root, 'layer/package-lock.json')) ? read<Lock>('layer/package-lock.json') : undefined;
  return cycloneDxSbom({
    bundles: readBundles(root),
    pkg: read<PackageJson>('package.json'),
    lock: read<Lock>('package-lock.json'),
    esbuildVersion: read<{ version: string }>('node_modules/esbuild/package.json').version,
    license: licenseChoice,
    layerLock,
  });
}

if (require.main === module) {
  const values = parseFlags({ out: { type: 'string', default: join(root, 'build/sbom.cdx.json') } }, `
npm run sbom -- [options]: build, then write a CycloneDX 1.6 JSON SBOM of the packages in the
bundles (dist/index.js, build/cli/cli.js) and the FC layer, from esbuild's metafiles.

  --out FILE         where to write it (default build/sbom.cdx.json)
  -h, --help         this text`);
  const out = resolve(values.out!);
  const bom = makeSbom();
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(bom, null, 2)}\n`);
  console.log(`${out}: CycloneDX ${bom.specVersion as string}, ${(bom.components as unknown[]).length} components`);
}
