#!/usr/bin/python3
"""Builds a tiny, randomly initialised video encoder with the signature of an
exported V-JEPA2 encoder and exports it as ONNX with export_vjepa2.py's
export path (vjepa2_onnx.py): input 1 x 3 x T x S x S (float32, normalised), output
1 x D (the mean over the encoder's tokens). The weights are random but fixed
(--seed), so the file and its outputs are the same on every run.

The network has the operators of the real encoder (facebookresearch/vjepa2,
src/models/vision_transformer.py with use_rope=True), so that a runtime that
runs this file runs the real export too:
  - tubelet patch embedding: Conv3d, kernel = stride = (tubelet, 16, 16);
  - pre-norm transformer blocks: LayerNorm (eps 1e-6, decomposed at opset
    12), qkv Linear, 3-D rotary position embedding on depth/height/width
    slices of each head (sin/cos tables, the pair rotation as
    unflatten/unbind/stack/flatten), attention as MatMul/Softmax/MatMul (the
    path the real encoder takes with use_sdpa=False), an MLP with exact GELU
    (Erf);
  - a final LayerNorm, then the mean over tokens.

Optionally writes a reference: deterministic uint8 RGB frames of one clip,
the blob the original's preprocessing makes of them (§4.2 of the reference:
floor(linspace) resample to T frames, [0,1], bilinear resize to S x S with
align_corners=False and no antialias, ImageNet mean/std, C x T x H x W) and
the network's output for that blob, so a test can check a runtime and a
preprocessing against torch.

Needs Debian's python3-torch (and nothing from PyPI). Usage:
  make_tiny_vjepa2.py --out tiny.onnx [--frames 16 --size 64 --dim 32
                      --depth 1 --heads 2]
                      [--reference DIR --clip-frames 8 --clip-height 36
                       --clip-width 48]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vjepa2_onnx  # noqa: E402

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def rotate_queries_or_keys(x, pos):
    """The real encoder's rotate_queries_or_keys: x is B x heads x N x d."""
    d = x.size(-1)
    omega = torch.arange(d // 2, dtype=x.dtype) / (d / 2.0)
    omega = 1.0 / 10000 ** omega
    freq = pos.to(x.dtype).unsqueeze(-1) * omega  # N x d/2
    sin = freq.sin().repeat(1, 2)  # the real encoder repeats, not interleaves
    cos = freq.cos().repeat(1, 2)
    y = x.unflatten(-1, (-1, 2))
    y1, y2 = y.unbind(dim=-1)
    y = torch.stack((-y2, y1), dim=-1).flatten(-2)
    return x * cos + y * sin


class RopeAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.rot = 2 * ((self.head_dim // 3) // 2)  # per axis, as the real one

    def forward(self, x, t, h, w):
        b, n, c = x.size()
        qkv = self.qkv(x).unflatten(-1, (3, self.heads, -1)).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        ids = torch.arange(t * h * w)
        frame = ids // (h * w)
        row = (ids - frame * h * w) // w
        col = ids - frame * h * w - row * w
        qs, ks, s = [], [], 0
        for pos in (frame, row, col):
            qs.append(rotate_queries_or_keys(q[..., s:s + self.rot], pos))
            ks.append(rotate_queries_or_keys(k[..., s:s + self.rot], pos))
            s += self.rot
        if s < self.head_dim:
            qs.append(q[..., s:])
            ks.append(k[..., s:])
        q = torch.cat(qs, dim=-1)
        k = torch.cat(ks, dim=-1)
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = RopeAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, dim * 4)
        self.fc2 = nn.Linear(dim * 4, dim)

    def forward(self, x, t, h, w):
        x = x + self.attn(self.norm1(x), t, h, w)
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class TinyVJepa2(nn.Module):
    """Encoder + mean pooling: B x 3 x T x S x S -> B x D."""

    def __init__(self, dim, depth, heads, patch, tubelet):
        super().__init__()
        self.patch, self.tubelet = patch, tubelet
        self.patch_embed = nn.Conv3d(3, dim, kernel_size=(tubelet, patch, patch), stride=(tubelet, patch, patch))
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        # LayerNorms start as weight 1, bias 0; equal tensors would be shared
        # in the export (Identity nodes a trained model never has), and a
        # test learns more from norms that do something.
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.LayerNorm):
                    m.weight.add_(0.1 * torch.randn_like(m.weight))
                    m.bias.add_(0.1 * torch.randn_like(m.bias))

    def forward(self, x):
        _, _, t, hgt, wid = x.shape
        t, h, w = int(t) // self.tubelet, int(hgt) // self.patch, int(wid) // self.patch
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        for blk in self.blocks:
            x = blk(x, t, h, w)
        return self.norm(x).mean(dim=1)


def preprocess(frames_u8, frames, size):
    """The original's V-JEPA2 preprocessing: uint8 T' x H x W x 3 -> 3 x T x S x S."""
    t_in = frames_u8.shape[0]
    # numpy's float64 linspace, truncated, as the original (torch's is float32).
    idx = np.linspace(0, t_in - 1, frames).astype(np.int64) if t_in != frames else np.arange(frames)
    idx = torch.from_numpy(idx)
    x = frames_u8[idx].to(torch.float32) / 255.0               # T x H x W x 3
    x = x.permute(0, 3, 1, 2)                                  # T x 3 x H x W
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    x = (x - mean) / std
    return x.permute(1, 0, 2, 3).contiguous()                  # 3 x T x S x S


def write_reference(model, args):
    os.makedirs(args.reference, exist_ok=True)
    g = torch.Generator().manual_seed(args.seed + 1)
    # Uniform noise: every pixel differs from its neighbours, so that a
    # resize that samples the wrong place shows.
    t, hh, ww = args.clip_frames, args.clip_height, args.clip_width
    base = torch.rand(t, hh, ww, 3, generator=g) * 255
    frames_u8 = base.round().clamp(0, 255).to(torch.uint8)
    blob = preprocess(frames_u8, args.frames, args.size).unsqueeze(0)
    with torch.no_grad():
        out = model(blob)
    def dump(name, tensor):
        with open(os.path.join(args.reference, name), "wb") as f:
            f.write(tensor.contiguous().numpy().tobytes())
    dump("frames.u8", frames_u8)
    dump("input.f32", blob)
    dump("output.f32", out)
    with open(os.path.join(args.reference, "reference.json"), "w") as f:
        json.dump({"frames_shape": list(frames_u8.shape), "input_shape": list(blob.shape),
                   "output_shape": list(out.shape)}, f)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="the .onnx file to write")
    p.add_argument("--frames", type=int, default=16, help="T, frames per clip (even)")
    p.add_argument("--size", type=int, default=64, help="S, picture side (a multiple of 16)")
    p.add_argument("--dim", type=int, default=32, help="D, embedding dimension")
    p.add_argument("--depth", type=int, default=1, help="transformer blocks")
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--patch", type=int, default=16)
    p.add_argument("--tubelet", type=int, default=2)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--reference", help="directory for frames.u8, input.f32, output.f32, reference.json")
    p.add_argument("--clip-frames", type=int, default=8)
    p.add_argument("--clip-height", type=int, default=36)
    p.add_argument("--clip-width", type=int, default=48)
    args = p.parse_args()
    if args.frames % args.tubelet or args.size % args.patch or args.dim % args.heads:
        sys.exit("frames must be a multiple of the tubelet, size of the patch, dim of the heads")
    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    model = TinyVJepa2(args.dim, args.depth, args.heads, args.patch, args.tubelet).eval()
    if args.reference:
        write_reference(model, args)  # the model as written, not as exported
    vjepa2_onnx.export(model, args.frames, args.size, args.out, rope_namespace=sys.modules[__name__])


if __name__ == "__main__":
    main()
