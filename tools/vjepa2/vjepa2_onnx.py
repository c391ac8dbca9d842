"""What export_vjepa2.py and make_tiny_vjepa2.py share: how a V-JEPA2-style
encoder becomes an ONNX file that OpenCV 4.6's DNN module (Debian 12) runs.

OpenCV 4.6 refuses a plain torch.onnx.export of such an encoder; each point
below was found by running one on it (doc/embedders.md, "vjepa2"), and each
rewrite computes the same function:
  - a constant broadcast along the last axis of a 3-D or 4-D tensor (the
    bias Add of every Linear on tokens, the LayerNorm's weight and bias)
    fails in its Scale layer: Linear and LayerNorm run on the tokens
    flattened to 2-D (B*N x C), where the broadcast works;
  - opset 12, not 13: at 13, Squeeze/Unsqueeze/Split take their axes as an
    input, and OpenCV 4.6 parses only the attribute form;
  - a scalar Mul right after a MatMul of two variables (attention's
    (q @ k^T) * scale) is fused wrongly by OpenCV 4.6 (the result is off by
    ~0.6; right with fusion off): the scale is folded into the q rows of the
    qkv projection (RoPE rotates q linearly, so this is the same function)
    and the Mul becomes * 1.0;
  - the rotary position tables (sin/cos of position x frequency) are constant
    for a fixed input shape, but torch does not fold Range/Pow/Sin/Cos/Tile and
    OpenCV cannot run a tensor exponent: they are computed here, in numpy, and
    enter the graph as constants (one set per use: ~190 MB in a ViT-L
    export beside 1.2 GB of weights; sharing them between layers was not
    pursued);
  - the rotation of coordinate pairs as a MatMul with a constant +-1 matrix
    instead of a 5-D reshape/unbind/stack;
  - Tensor.unflatten, which torch 1.13 cannot export, is a reshape while
    exporting;
  - attention as MatMul/Softmax/MatMul: the real encoder's use_sdpa path
    (scaled_dot_product_attention) has no ONNX form at opset 12.
"""
import contextlib
import copy
import inspect
import os
import warnings

import numpy as np
import torch
import torch.nn.functional as F

OPSET = 12
INPUT_NAME = "video"
OUTPUT_NAME = "embedding"


def baked_rotate(x, pos):
    """rotate_queries_or_keys of facebookresearch/vjepa2 (src/models/utils/
    modules.py), with the sin/cos tables computed outside the traced graph.
    Same arithmetic, including the original's repeat (not interleave) of the
    frequencies, which its pretrained weights depend on."""
    d = int(x.shape[-1])
    positions = pos.detach().cpu().numpy().astype(np.float32)
    omega = np.arange(d // 2, dtype=np.float32) / np.float32(d / 2.0)
    omega = (1.0 / np.power(np.float32(10000), omega)).astype(np.float32)
    freq = positions[..., None] * omega                       # (..., N, d/2)
    sin = np.concatenate([np.sin(freq), np.sin(freq)], axis=-1).astype(np.float32)
    cos = np.concatenate([np.cos(freq), np.cos(freq)], axis=-1).astype(np.float32)
    if sin.ndim < 4:  # the original's .repeat(1, 1, 1, 2) prepends dimensions
        sin = sin.reshape((1,) * (4 - sin.ndim) + sin.shape)
        cos = cos.reshape((1,) * (4 - cos.ndim) + cos.shape)
    # The pair rotation (x0, x1) -> (-x1, x0) as a product with a constant
    # +-1 matrix: exact, and no 5-D reshape/split/stack, which OpenCV 4.6
    # mishandles (negative axes of a variable Unsqueeze are refused).
    turn = np.zeros((d, d), dtype=np.float32)
    for i in range(d // 2):
        turn[2 * i + 1, 2 * i] = -1.0
        turn[2 * i, 2 * i + 1] = 1.0
    # The tables multiply flattened rows (see the Scale note above).
    if sin.shape[:-2] != (1, 1):
        raise ValueError("export without masks: the position tables must not depend on batch or head")
    shape = tuple(int(v) for v in x.shape)
    row = shape[-2] * shape[-1]
    turned = torch.matmul(x, torch.from_numpy(turn))
    sin, cos = torch.from_numpy(sin.reshape(row)), torch.from_numpy(cos.reshape(row))
    out = x.reshape(-1, row) * cos + turned.reshape(-1, row) * sin
    return out.reshape((-1,) + shape[1:])


@contextlib.contextmanager
def baked_rope(module_namespace):
    """Replaces module_namespace.rotate_queries_or_keys while exporting."""
    saved = module_namespace.rotate_queries_or_keys
    module_namespace.rotate_queries_or_keys = baked_rotate
    try:
        yield
    finally:
        module_namespace.rotate_queries_or_keys = saved


def _unflatten_as_reshape(self, dim, sizes):
    shape = [int(v) for v in self.shape]
    dim = dim % len(shape)
    sizes = [int(v) for v in sizes]
    if -1 in sizes:
        known = 1
        for v in sizes:
            known *= v if v != -1 else 1
        sizes[sizes.index(-1)] = shape[dim] // known
    return self.reshape(shape[:dim] + sizes + shape[dim + 1:])


@contextlib.contextmanager
def unflatten_as_reshape():
    saved = torch.Tensor.unflatten
    torch.Tensor.unflatten = _unflatten_as_reshape
    try:
        yield
    finally:
        torch.Tensor.unflatten = saved


class FlatLinear(torch.nn.Module):
    """nn.Linear on x.reshape(-1, in_features): one Gemm in ONNX."""

    def __init__(self, linear):
        super().__init__()
        self.weight, self.bias = linear.weight, linear.bias

    def forward(self, x):
        shape = tuple(int(v) for v in x.shape)
        y = F.linear(x.reshape(-1, shape[-1]), self.weight, self.bias)
        return y.reshape((-1,) + shape[1:-1] + (int(self.weight.shape[0]),))


class FlatLayerNorm(torch.nn.Module):
    """nn.LayerNorm over the last axis, its affine part on 2-D rows."""

    def __init__(self, norm):
        super().__init__()
        if len(norm.normalized_shape) != 1:
            raise ValueError("only LayerNorms over the last axis are rewritten")
        self.eps, self.weight, self.bias = norm.eps, norm.weight, norm.bias
        self.size = int(norm.normalized_shape[0])

    def forward(self, x):
        shape = tuple(int(v) for v in x.shape)
        y = F.layer_norm(x, (self.size,), eps=self.eps).reshape(-1, self.size)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y.reshape((-1,) + shape[1:])


def scale_folded(model):
    """For every attention module (one with a `qkv` Linear and a `scale`):
    q's rows of qkv are multiplied by scale, and scale becomes 1.0."""
    with torch.no_grad():
        for m in model.modules():
            qkv = getattr(m, "qkv", None)
            if isinstance(qkv, torch.nn.Linear) and isinstance(getattr(m, "scale", None), float):
                dim = qkv.out_features // 3
                qkv.weight[:dim] *= m.scale
                if qkv.bias is not None:
                    qkv.bias[:dim] *= m.scale
                m.scale = 1.0
    return model


def flattened(model):
    """Replaces every nn.Linear and nn.LayerNorm of `model` (in place) with
    FlatLinear / FlatLayerNorm; the weights are shared, not copied."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, torch.nn.Linear):
                setattr(parent, name, FlatLinear(child))
            elif isinstance(child, torch.nn.LayerNorm):
                setattr(parent, name, FlatLayerNorm(child))
    return model


def without_sdpa(model):
    """Every attention module takes its explicit MatMul/Softmax path."""
    for m in model.modules():
        if hasattr(m, "use_sdpa"):
            m.use_sdpa = False
    return model


class MeanPooled(torch.nn.Module):
    """encoder(x): B x N x D tokens -> B x D, the mean over tokens."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, x):
        return self.encoder(x).mean(dim=1)


def export(model, frames, size, path, rope_namespace=None):
    """Writes `model` (1 x 3 x frames x size x size -> 1 x D) to `path`
    atomically, with every rewrite above applied to a copy of it.
    `rope_namespace` is the module whose rotate_queries_or_keys the model's
    attention calls.

    The batch is 1, fixed. The encoder reshapes with the batch it reads from
    x.size(), which OpenCV 4.6 evaluates once, at import: a free batch runs
    at 1 and fails at 2. A file exported with a fixed batch of 2 fails in
    OpenCV too (a shape assertion, not pursued), and on a CPU a batch gains
    little: OpenCV already spreads each layer over every core."""
    model = flattened(scale_folded(without_sdpa(copy.deepcopy(model)))).eval()
    dummy = torch.zeros(1, 3, frames, size, size)
    kwargs = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # the TorchScript exporter, the one these rewrites were checked with
    tmp = path + ".tmp"
    rope = baked_rope(rope_namespace) if rope_namespace is not None else contextlib.nullcontext()
    with torch.no_grad(), rope, unflatten_as_reshape(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(model, dummy, tmp, input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          opset_version=OPSET, do_constant_folding=True, **kwargs)
    os.replace(tmp, path)
