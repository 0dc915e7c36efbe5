// Bundles the function into dist/index.js (CommonJS, node20) for FC's `index.handler`, and the
// consumer-group worker into build/cli/cli.js.
// Runtime dependencies listed in layer/package.json ship in the FC layer, so they stay external.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const layer = JSON.parse(readFileSync('layer/package.json', 'utf8'));
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const external = Object.keys(layer.dependencies ?? {});

rmSync('dist', { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  legalComments: 'none',
  external,
  logLevel: 'warning',
};
// The consumer-group worker (`sls-syslog-forwarder consume`) is a separate entry, outside the FC code zip.
await build({ ...common, entryPoints: ['src/cli.ts'], outfile: 'build/cli/cli.js', define: { __VERSION__: JSON.stringify(version) } });
const result = await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js', metafile: true });
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
console.log(`built dist/index.js (${(bytes / 1024).toFixed(1)} KiB${external.length ? `; external, from the layer: ${external.join(', ')}` : ''})`);
