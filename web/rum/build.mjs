// Builds src/index.ts into ONE minified file that the server serves and pip ships:
// ../../src/fanzwatch/rum/static/fanz-rum.js. The build is deterministic (same inputs,
// same bytes): tests/rum/test_script_build.py rebuilds it and compares.
//
//   node build.mjs                      # write the committed file
//   node build.mjs --outfile /tmp/x.js  # write elsewhere (the freshness test)
//   node build.mjs --report-size        # also print raw and gzipped sizes
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf('--outfile');
const outfile =
  outIndex >= 0 ? resolve(args[outIndex + 1]) : resolve(here, '../../src/fanzwatch/rum/static/fanz-rum.js');
const vitals = JSON.parse(readFileSync(resolve(here, 'node_modules/web-vitals/package.json'), 'utf8')).version;

await build({
  entryPoints: [resolve(here, 'src/index.ts')],
  outfile,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  platform: 'browser',
  legalComments: 'none',
  sourcemap: false,
  charset: 'utf8',
  logLevel: 'warning',
  banner: {
    js: `/*! fanz-rum.js (fanzwatch, MIT) | bundles web-vitals ${vitals} (Apache-2.0, Google LLC) */`,
  },
});

if (args.includes('--report-size')) {
  const bytes = readFileSync(outfile);
  console.log(`${outfile}: ${bytes.length} bytes, ${gzipSync(bytes, { level: 9 }).length} bytes gzipped`);
}
