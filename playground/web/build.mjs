// Bundles GraphiQL into ../dist/assets/ with content-hashed names and writes
// ../dist/manifest.json, which ../playground.go reads to link them. Leaves
// ../dist/README.txt (committed, so that //go:embed always has a file) alone.
import * as esbuild from 'esbuild';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, gzipSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '..', 'dist');
const assets = path.join(dist, 'assets');

await rm(assets, { recursive: true, force: true });
await rm(path.join(dist, 'manifest.json'), { force: true });
await mkdir(assets, { recursive: true });

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: { graphiql: 'src/index.jsx' },
  outdir: assets,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  alias: { 'graphql-ws': './src/no-graphql-ws.js' },
  // Fonts and images in GraphiQL's CSS are data: URLs already; anything else is
  // emitted as a file next to the bundle, never fetched from elsewhere.
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.png': 'file', '.svg': 'file' },
  legalComments: 'external',
  sourcemap: false,
  metafile: true,
  logLevel: 'warning',
});

let js = '';
let css = '';
for (const [out, info] of Object.entries(result.metafile.outputs)) {
  if (info.entryPoint === 'src/index.jsx') {
    js = path.relative(dist, path.resolve(here, out));
    if (info.cssBundle) css = path.relative(dist, path.resolve(here, info.cssBundle));
  }
}
if (!js || !css) throw new Error(`build produced no JS or CSS bundle: ${JSON.stringify(Object.keys(result.metafile.outputs))}`);

const toPosix = (p) => p.split(path.sep).join('/');
await writeFile(
  path.join(dist, 'manifest.json'),
  JSON.stringify({ js: toPosix(js), css: toPosix(css) }, null, 2) + '\n',
);

// Pre-compressed copies, served to clients that accept gzip.
for (const f of await readdir(assets)) {
  if (!/\.(js|css)$/.test(f)) continue;
  const body = await readFile(path.join(assets, f));
  await writeFile(path.join(assets, `${f}.gz`), gzipSync(body, { level: constants.Z_BEST_COMPRESSION }));
}

for (const f of (await readdir(assets)).sort()) console.log(`playground/dist/assets/${f}`);
