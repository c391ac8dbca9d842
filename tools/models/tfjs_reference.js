#!/usr/bin/env node
// Runs an original TF.js graph model on one picture with @tensorflow/tfjs's
// pure-JS CPU backend and writes the outputs the converted ONNX model must
// reproduce (tests: src/embed/converted_models_test.cc).
//
//   node tfjs_reference.js MODEL.json SIGNATURE.json PICTURE.rgb SCALE OFFSET OUT_PREFIX
//
// SIGNATURE.json is the converter's (tfjs_to_onnx.py --signature): the ONNX
// input shape (NCHW) and, per output, the TF node, an optional mean pooling
// and the ONNX layout. PICTURE.rgb is H*W*3 bytes of RGB (rgb24). The model's
// input is value * SCALE + OFFSET (truncated to an integer for an int32 input).
// Writes OUT_PREFIX.input.f32 (the ONNX input blob, NCHW float32) and
// OUT_PREFIX.<output name>.f32 (float32, in the ONNX output's layout), all
// little-endian.
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

async function main() {
  const [modelPath, sigPath, picturePath, scaleArg, offsetArg, outPrefix] = process.argv.slice(2);
  if (!outPrefix) {
    console.error('usage: tfjs_reference.js MODEL.json SIGNATURE.json PICTURE.rgb SCALE OFFSET OUT_PREFIX');
    process.exit(2);
  }
  await tf.setBackend('cpu');
  const model = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
  const sig = JSON.parse(fs.readFileSync(sigPath, 'utf8'));
  const dir = path.dirname(modelPath);
  const weightSpecs = [];
  const buffers = [];
  for (const group of model.weightsManifest) {
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, path.basename(p))));
    weightSpecs.push(...group.weights);
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const graph = await tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: model.modelTopology, weightSpecs, weightData, format: model.format,
    generatedBy: model.generatedBy, convertedBy: model.convertedBy,
    signature: model.signature, userDefinedMetadata: model.userDefinedMetadata,
  }));

  const [, c, h, w] = sig.input.shape;
  const rgb = fs.readFileSync(picturePath);
  if (rgb.length !== h * w * c) throw new Error(`${picturePath}: ${rgb.length} bytes, expected ${h}x${w}x${c}`);
  const scale = Number(scaleArg);
  const offset = Number(offsetArg);
  const placeholder = model.modelTopology.node.find((n) => n.op === 'Placeholder');
  const isInt = placeholder.attr.dtype.type === 'DT_INT32';
  const nhwc = new Float32Array(h * w * c);
  for (let i = 0; i < nhwc.length; i++) {
    const v = rgb[i] * scale + offset;
    nhwc[i] = isInt ? Math.trunc(v) : v;
  }
  const input = isInt ? tf.tensor4d(Int32Array.from(nhwc), [1, h, w, c], 'int32') : tf.tensor4d(nhwc, [1, h, w, c]);
  const nchw = tf.transpose(tf.tensor4d(nhwc, [1, h, w, c]), [0, 3, 1, 2]);
  fs.writeFileSync(`${outPrefix}.input.f32`, Buffer.from((await nchw.data()).buffer));

  const names = sig.outputs.map((o) => o.tf_node);
  let outs = graph.execute(input, names);
  if (!Array.isArray(outs)) outs = [outs];
  for (let i = 0; i < sig.outputs.length; i++) {
    const o = sig.outputs[i];
    let t = outs[i];
    if (o.pool === 'mean') t = tf.mean(t, [1, 2]);
    if (o.layout === 'NCHW') t = tf.transpose(t, [0, 3, 1, 2]);
    const got = t.shape.join('x');
    const want = o.shape.join('x');
    if (got !== want) throw new Error(`${o.name}: TF.js gives ${got}, the ONNX signature says ${want}`);
    const data = await t.data();
    fs.writeFileSync(`${outPrefix}.${o.name}.f32`, Buffer.from(Float32Array.from(data).buffer));
  }
}

main().catch((e) => {
  console.error(`tfjs_reference: ${e.stack || e}`);
  process.exit(1);
});
