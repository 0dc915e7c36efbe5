// Bundles the function into dist/index.js (CommonJS, node20) for FC's `index.handler`, and the
// consumer-group worker into build/cli/cli.js.
// Runtime dependencies listed in layer/package.json ship in the FC layer, so they stay external.
// Each bundle's esbuild metafile goes to build/meta/ (outside dist/, which is the code zip): it is
// the record of which packages a bundle really contains, for the SBOM (`npm run sbom`) and the test
// that every one of them is declared in package.json `dependencies` (test/supply-chain.test.ts).
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const layer = JSON.parse(readFileSync('layer/package.json', 'utf8'));
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const external = Object.keys(layer.dependencies ?? {});

rmSync('dist', { recursive: true, force: true });
rmSync('build/meta', { recursive: true, force: true });
mkdirSync('build/meta', { recursive: true });
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  legalComments: 'none',
  external,
  logLevel: 'warning',
  metafile: true,
  plugins: [kmsSdkApart()],
};

/** The KMS SDK stays a file of its own beside each bundle (src/secrets/kms-sdk.ts says why). */
function kmsSdkApart() {
  return {
    name: 'kms-sdk-apart',
    setup(b) {
      b.onResolve({ filter: /^\.\/kms-sdk$/ }, (args) => (args.importer.endsWith('kms.ts') ? { path: './kms-sdk.js', external: true } : undefined));
    },
  };
}
const sdk = { ...common, plugins: [], entryPoints: ['src/secrets/kms-sdk.ts'] };
// The consumer-group worker (`sls-syslog-forwarder consume`) is a separate entry, outside the FC code zip.
const cli = await build({ ...common, entryPoints: ['src/cli.ts'], outfile: 'build/cli/cli.js', define: { __VERSION__: JSON.stringify(version) } });
writeFileSync('build/meta/cli.json', JSON.stringify(cli.metafile));
const result = await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js' });
writeFileSync('build/meta/index.json', JSON.stringify(result.metafile));
const kms = await build({ ...sdk, outfile: 'dist/kms-sdk.js' });
writeFileSync('build/meta/kms-sdk.json', JSON.stringify(kms.metafile));
await build({ ...sdk, outfile: 'build/cli/kms-sdk.js', metafile: false });
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
console.log(`built dist/index.js (${(bytes / 1024).toFixed(1)} KiB${external.length ? `; external, from the layer: ${external.join(', ')}` : ''})`);
