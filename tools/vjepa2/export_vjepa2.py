#!/usr/bin/env python3
"""Exports a V-JEPA2 video encoder for SOPilot's `vjepa2` embedder.

Run this where you have torch, the facebookresearch/vjepa2 code and its
weights; SOPilot itself needs neither (doc/embedders.md, "vjepa2"). It
writes one ONNX file: input `video`, 1 x 3 x T x S x S float32 (ImageNet-
normalised RGB, C x T x H x W), output `embedding`, 1 x D, the mean of the
encoder's tokens. SOPilot reads T and S from the file and samples clips to
match, so other --frames/--size values need nothing else.

The model is loaded as the Python original loaded it (its VJEPA2_* settings):
  torch.hub:   --repo facebookresearch/vjepa2 --variant vjepa2_vit_large
  local code:  --source local --local-repo ~/src/vjepa2
  own weights: --checkpoint ckpt.pt (its "encoder" entry or the whole file,
               prefixes "module." and "backbone." stripped, strict=False;
               the hub's pretrained weights are then not downloaded)

The encoder is rewritten for OpenCV 4.6's DNN module before export
(vjepa2_onnx.py says what and why; every rewrite computes the same
function), and when cv2 is importable the written file is run once on
random input and compared with torch. Example:

  python3 tools/vjepa2/export_vjepa2.py --out vjepa2_vitl_64x256.onnx
  SOPILOT_VJEPA2_MODEL=$PWD/vjepa2_vitl_64x256.onnx sopilot embed --embedder vjepa2 ...
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vjepa2_onnx  # noqa: E402


def load_encoder(args):
    pretrained = args.checkpoint is None
    if args.source == "local":
        loaded = torch.hub.load(args.local_repo, args.variant, source="local", pretrained=pretrained,
                                num_frames=args.frames)
    else:
        loaded = torch.hub.load(args.repo, args.variant, pretrained=pretrained, num_frames=args.frames)
    encoder = loaded[0] if isinstance(loaded, (tuple, list)) else loaded  # (encoder, predictor)
    if args.checkpoint:
        blob = torch.load(args.checkpoint, map_location="cpu")
        state = blob.get("encoder", blob) if isinstance(blob, dict) else blob
        state = {k.replace("module.", "").replace("backbone.", ""): v for k, v in state.items()}
        missing, unexpected = encoder.load_state_dict(state, strict=False)
        print(f"checkpoint: {len(missing)} missing, {len(unexpected)} unexpected keys", file=sys.stderr)
    return encoder.eval()


def rope_namespace(encoder):
    """The module whose rotate_queries_or_keys the attention blocks call."""
    for m in encoder.modules():
        namespace = sys.modules.get(type(m).__module__)
        if namespace is not None and hasattr(namespace, "rotate_queries_or_keys"):
            return namespace
    return None


def self_check(model, path, frames, size):
    try:
        import cv2
        import numpy as np
    except ImportError:
        print("cv2 not importable: the file was not run with OpenCV here", file=sys.stderr)
        return True
    x = torch.randn(1, 3, frames, size, size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want = model(x).numpy()
    net = cv2.dnn.readNetFromONNX(path)
    net.setInput(x.numpy())
    got = net.forward()
    err = float(np.abs(got.reshape(want.shape) - want).max())
    scale = float(np.abs(want).max())
    print(f"OpenCV {cv2.__version__} vs torch: max |diff| {err:.3g} (max |output| {scale:.3g})", file=sys.stderr)
    return err <= 1e-3 * max(1.0, scale)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="the .onnx file to write")
    p.add_argument("--variant", default="vjepa2_vit_large", help="hub entry point (VJEPA2_VARIANT)")
    p.add_argument("--source", choices=["hub", "local"], default="hub", help="VJEPA2_SOURCE")
    p.add_argument("--repo", default="facebookresearch/vjepa2", help="VJEPA2_REPO")
    p.add_argument("--local-repo", help="VJEPA2_LOCAL_REPO, with --source local")
    p.add_argument("--checkpoint", help="VJEPA2_LOCAL_CHECKPOINT")
    p.add_argument("--frames", type=int, default=64, help="VJEPA2_NUM_FRAMES")
    p.add_argument("--size", type=int, default=256, help="VJEPA2_IMAGE_SIZE")
    p.add_argument("--no-check", action="store_true", help="skip the OpenCV comparison")
    args = p.parse_args()
    if args.source == "local" and not args.local_repo:
        p.error("--source local needs --local-repo")
    encoder = load_encoder(args)
    namespace = rope_namespace(encoder)
    if namespace is None:
        print("no rotate_queries_or_keys found: exporting without baked RoPE tables", file=sys.stderr)
    model = vjepa2_onnx.MeanPooled(encoder).eval()
    vjepa2_onnx.export(model, args.frames, args.size, args.out, rope_namespace=namespace)
    print(f"wrote {args.out}: 1x3x{args.frames}x{args.size}x{args.size} -> 1x{encoder.embed_dim}", file=sys.stderr)
    if not args.no_check and not self_check(model, args.out, args.frames, args.size):
        sys.exit("the exported file does not compute what torch computes in this OpenCV; do not use it")


if __name__ == "__main__":
    main()
