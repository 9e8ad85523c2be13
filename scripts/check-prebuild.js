#!/usr/bin/env node
// After `npm run prebuild`: the loader must choose prebuilds/<platform>-<arch>/ when no local
// build is present, and the addon it loads must work. Used by .ci/run.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const nodeGypBuild = require('node-gyp-build');

const root = path.join(__dirname, '..');
const local = path.join(root, 'build', 'Release', 'nlkit.node');
if (fs.existsSync(local)) {
  console.error(`a local build is still present at ${local}; prebuildify should have moved it`);
  process.exit(1);
}
const chosen = nodeGypBuild.resolve(root);
const expected = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
if (!chosen.startsWith(expected)) {
  console.error(`loader chose ${chosen}, expected a file under ${expected}`);
  process.exit(1);
}
const binding = nodeGypBuild(root);
if (typeof binding.linkGet !== 'function') {
  console.error('the prebuilt addon does not export linkGet');
  process.exit(1);
}
console.log(`prebuild in use: ${path.relative(root, chosen)}`);
