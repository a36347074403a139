// Builds FanzDash's browser code into ONE script and ONE stylesheet that the server
// serves and pip ships: ../../src/fanzwatch/server/dash/static/fanzdash.{js,css}.
// Deterministic (same inputs, same bytes): tests/server/dash/test_assets.py rebuilds
// into a temporary directory and compares with the committed files.
//
//   node build.mjs                   # write the committed files
//   node build.mjs --outdir /tmp/x   # write elsewhere (the freshness test)
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf('--outdir');
const outdir =
  outIndex >= 0 ? resolve(args[outIndex + 1]) : resolve(here, '../../src/fanzwatch/server/dash/static');
const uplot = JSON.parse(readFileSync(resolve(here, 'node_modules/uplot/package.json'), 'utf8')).version;
const banner = `/*! FanzDash (fanzwatch, MIT) | bundles uPlot ${uplot} (MIT, Leon Sorokin) */`;

await build({
  entryPoints: { fanzdash: resolve(here, 'src/main.ts') },
  outdir,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  platform: 'browser',
  legalComments: 'none',
  sourcemap: false,
  charset: 'utf8',
  logLevel: 'warning',
  banner: { js: banner, css: banner },
});
