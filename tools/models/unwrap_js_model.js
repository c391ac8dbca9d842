#!/usr/bin/env node
// Turns a TF.js graph model that nsfwjs ships as UMD JavaScript modules
// (model.min.js, whose export is the model JSON, and group1-shardNofM.min.js,
// whose export is the shard as base64) back into the usual files:
//
//   node unwrap_js_model.js SRC_DIR OUT_DIR
//
// writes OUT_DIR/model.json and one binary file per shard, named as the
// model's weightsManifest names them.
'use strict';

const fs = require('fs');
const path = require('path');

const [srcDir, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: unwrap_js_model.js SRC_DIR OUT_DIR');
  process.exit(2);
}
const model = require(path.resolve(srcDir, 'model.min.js'));
if (!model || !model.modelTopology || !model.weightsManifest) {
  console.error(`unwrap_js_model: ${srcDir}/model.min.js does not export a TF.js model`);
  process.exit(1);
}
fs.mkdirSync(outDir, { recursive: true });
for (const group of model.weightsManifest) {
  for (const p of group.paths) {
    const base64 = require(path.resolve(srcDir, `${path.basename(p)}.min.js`));
    if (typeof base64 !== 'string') {
      console.error(`unwrap_js_model: ${p}.min.js does not export a base64 string`);
      process.exit(1);
    }
    fs.writeFileSync(path.join(outDir, path.basename(p)), Buffer.from(base64, 'base64'));
  }
}
fs.writeFileSync(path.join(outDir, 'model.json'), JSON.stringify(model));
