#!/usr/bin/python3
"""Converts a TF.js graph model (model JSON + weight shards) to ONNX (opset 11)
that OpenCV 4.6 DNN can run.

Only the ops of the models SOPilot uses are mapped (see OPS below); anything
else stops the conversion with the op's name. The graph is cut at the outputs
asked for: only the nodes they depend on are converted, so post-processing
that OpenCV cannot run (ArgMax, GatherNd, TopK, NonMaxSuppression) is left out
and decoded by the caller.

Layout. TF.js graphs are NHWC; OpenCV's convolutions are NCHW. Every 4-D
activation is kept NCHW in the ONNX graph (weights and per-channel constants
are transposed at conversion time), and a value is transposed back to TF
order only where an op depends on it (Reshape, Squeeze, a graph output that
is not 4-D). 4-D outputs are NCHW. Shapes are static: a free batch becomes 1.

Opset. A graph is written at opset 10 unless it needs opset 11 (a Resize
with a coordinate transformation mode), because OpenCV fuses opset-10 Clip
(bounds as attributes) into the convolution before it as ReLU6, and a
MobileNetV2 runs in 0.72x the time of the same graph with an unfused ReLU6.

Workarounds for OpenCV 4.6 (each was needed, see doc/models.md):
  * Relu6 at opset 11 is Relu(x) - Relu(x - 6): OpenCV refuses opset-11 Clip
    whose bounds are inputs (at opset 10 it is Clip with attributes).
  * TF "SAME" max pooling that pads asymmetrically is an explicit Pad (with
    a very low value) before the pooling; convolutions take asymmetric pads.
  * Channel padding (TF Pad on the C axis, BlazePalm's residual widening) is a
    1x1 convolution with an identity-and-zeros kernel.
  * Reshape of a 4-D NCHW value first transposes back to NHWC.

The output is deterministic: converting twice gives byte-identical files.

Usage:
  tfjs_to_onnx.py MODEL.json OUT.onnx --weights-dir DIR
      [--output TF_NODE[=NAME][:mean]]... [--input-name NAME] [--signature OUT.json]
A ":mean" suffix averages the 4-D value over height and width (a pooled
feature vector, [1, C]). The signature file records the input and output
names and shapes of the ONNX graph.
"""

import argparse
import base64
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CONVERTER_VERSION = "3"
# The opset of a graph that needs Resize; every other graph is written at 10.
OPSET = 11


class ConversionError(Exception):
    pass


# ---------------------------------------------------------------- weights

def load_weights(model, weights_dir):
    """Returns {name: np.ndarray} for every weight in the manifest, dequantised
    to float32 (float16 and uint8 affine quantisation) the way TF.js does."""
    out = {}
    for group in model["weightsManifest"]:
        data = b""
        for path in group["paths"]:
            with open(os.path.join(weights_dir, os.path.basename(path)), "rb") as f:
                data += f.read()
        offset = 0
        for w in group["weights"]:
            shape = [int(d) for d in w["shape"]]
            count = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            if q:
                qdtype = {"uint8": np.uint8, "uint16": np.uint16, "float16": np.float16}[q["dtype"]]
                raw = np.frombuffer(data, dtype=qdtype, count=count, offset=offset)
                offset += raw.nbytes
                if q["dtype"] == "float16":
                    values = raw.astype(np.float32)
                else:
                    values = (raw.astype(np.float64) * q["scale"] + q["min"]).astype(np.float32)
                if w["dtype"] == "int32":
                    values = np.round(values).astype(np.int32)
            else:
                dtype = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}[w["dtype"]]
                values = np.frombuffer(data, dtype=dtype, count=count, offset=offset).copy()
                offset += values.nbytes
            out[w["name"]] = values.reshape(shape)
        if offset != len(data):
            raise ConversionError(f"weight shards hold {len(data)} bytes, the manifest describes {offset}")
    return out


def attr_ints(node, key, default=None):
    a = node.get("attr", {}).get(key)
    if a is None:
        return default
    return [int(i) for i in a.get("list", {}).get("i", [])]


def attr_str(node, key, default=None):
    a = node.get("attr", {}).get(key)
    if a is None or "s" not in a:
        return default
    return base64.b64decode(a["s"]).decode()


def attr_strs(node, key):
    a = node.get("attr", {}).get(key)
    if a is None:
        return []
    return [base64.b64decode(s).decode() for s in a.get("list", {}).get("s", [])]


def attr_bool(node, key, default=False):
    a = node.get("attr", {}).get(key)
    return default if a is None else bool(a.get("b", False))


def attr_int(node, key, default=None):
    a = node.get("attr", {}).get(key)
    return default if a is None else int(a.get("i", 0))


def attr_float(node, key, default=None):
    a = node.get("attr", {}).get(key)
    return default if a is None else float(a.get("f", 0.0))


# ---------------------------------------------------------------- values

class Value:
    """A converted TF tensor. `const` holds a constant's value (TF layout);
    otherwise `name` is the ONNX tensor, `shape` the TF shape and `nchw`
    tells whether the ONNX tensor is the 4-D TF tensor transposed to NCHW."""

    def __init__(self, shape, name=None, nchw=False, const=None):
        self.shape = list(shape)
        self.name = name
        self.nchw = nchw
        self.const = const

    @property
    def is_const(self):
        return self.const is not None


def to_nchw_shape(shape):
    n, h, w, c = shape
    return [n, c, h, w]


def same_pads(in_size, k, stride, dilation=1):
    """TF "SAME": (before, after) padding of one spatial axis."""
    eff = (k - 1) * dilation + 1
    out = -(-in_size // stride)
    total = max((out - 1) * stride + eff - in_size, 0)
    return total // 2, total - total // 2


class Converter:
    def __init__(self, model, weights, input_name):
        self.nodes_by_name = {n["name"]: n for n in model["modelTopology"]["node"]}
        self.weights = weights
        self.input_name = input_name
        self.values = {}
        self.onnx_nodes = []
        self.initializers = []
        self.inputs = []
        self.counter = 0
        self.layout_cache = {}

    # -- naming and emission

    def fresh(self, hint):
        self.counter += 1
        short = hint.split("/")[-1].replace(":", "_")
        return f"n{self.counter}_{short}"

    def emit(self, op, inputs, hint, **attrs):
        out = self.fresh(hint or op)
        self.onnx_nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def init(self, array, hint):
        name = self.fresh(hint)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    # -- layout changes

    def as_nchw(self, v):
        """The ONNX name of 4-D `v` in NCHW order."""
        assert not v.is_const and len(v.shape) == 4
        if v.nchw:
            return v.name
        key = (v.name, "nchw")
        if key not in self.layout_cache:
            n, h, w, c = v.shape
            if c == 1 or h * w == 1:  # same memory order: a reshape suffices
                shape = self.init(np.array(to_nchw_shape(v.shape), np.int64), "shape")
                self.layout_cache[key] = self.emit("Reshape", [v.name, shape], "to_nchw")
            else:
                self.layout_cache[key] = self.emit("Transpose", [v.name], "to_nchw", perm=[0, 3, 1, 2])
        return self.layout_cache[key]

    def as_tf(self, v):
        """The ONNX name of `v` in TF order."""
        assert not v.is_const
        if not v.nchw:
            return v.name
        key = (v.name, "tf")
        if key not in self.layout_cache:
            n, h, w, c = v.shape
            if c == 1 or h * w == 1:
                shape = self.init(np.array(v.shape, np.int64), "shape")
                self.layout_cache[key] = self.emit("Reshape", [v.name, shape], "to_nhwc")
            else:
                self.layout_cache[key] = self.emit("Transpose", [v.name], "to_nhwc", perm=[0, 2, 3, 1])
        return self.layout_cache[key]

    # -- graph walk

    def get(self, ref):
        """The Value of a TF input reference ("node", "node:1", "^ctrl")."""
        if ref.startswith("^"):
            raise ConversionError(f"control input {ref} not supported")
        name, _, index = ref.partition(":")
        key = name if index in ("", "0") else f"{name}:{index}"
        if key not in self.values:
            self.convert_node(name)
        if key not in self.values:
            raise ConversionError(f"{ref}: output not produced")
        return self.values[key]

    def convert_node(self, name):
        node = self.nodes_by_name.get(name)
        if node is None:
            raise ConversionError(f"no node named {name}")
        op = node["op"]
        handler = OPS.get(op)
        if handler is None:
            raise ConversionError(f"op {op} (node {name}) is not supported")
        result = handler(self, node)
        if isinstance(result, list):
            for i, v in enumerate(result):
                self.values[name if i == 0 else f"{name}:{i}"] = v
        else:
            self.values[name] = result

    # -- helpers for handlers

    def const_value(self, ref):
        v = self.get(ref)
        if not v.is_const:
            raise ConversionError(f"{ref} must be a constant")
        return v.const

    def broadcast_const(self, const, dyn):
        """A constant operand for an elementwise op with dynamic `dyn`, in
        `dyn`'s ONNX layout, squeezed to the smallest shape that broadcasts."""
        c = np.asarray(const, dtype=np.float32)
        if c.size == 1:
            return self.init(c.reshape([]), "k")
        if dyn.nchw:
            c4 = c.reshape([1] * (4 - c.ndim) + list(c.shape)).transpose(0, 3, 1, 2)
            # Keep the batch axis: OpenCV 4.6 broadcasts [1,C,1,1] per channel.
            return self.init(np.ascontiguousarray(c4), "k")
        return self.init(c, "k")


# ---------------------------------------------------------------- op handlers

def h_placeholder(cv, node):
    dims = [int(d.get("size", -1)) for d in node["attr"]["shape"]["shape"]["dim"]]
    dims = [1 if d < 0 else d for d in dims]
    if len(dims) != 4:
        raise ConversionError(f"input {node['name']} has rank {len(dims)}; only NHWC images are supported")
    onnx_name = cv.input_name
    cv.inputs.append(helper.make_tensor_value_info(onnx_name, TensorProto.FLOAT, to_nchw_shape(dims)))
    return Value(dims, name=onnx_name, nchw=True)


def h_const(cv, node):
    if node["name"] in cv.weights:
        return Value(cv.weights[node["name"]].shape, const=cv.weights[node["name"]])
    t = node.get("attr", {}).get("value", {}).get("tensor")
    if t is None:
        raise ConversionError(f"constant {node['name']} has no value")
    dims = [int(d.get("size", 0)) for d in t.get("tensorShape", {}).get("dim", [])]
    dtype = t.get("dtype")
    if dtype == "DT_INT32":
        vals = np.array([int(x) for x in t.get("intVal", [])], np.int32)
    elif dtype == "DT_FLOAT":
        vals = np.array([float(x) for x in t.get("floatVal", [])], np.float32)
    else:
        raise ConversionError(f"constant {node['name']} of type {dtype}")
    n = int(np.prod(dims)) if dims else 1
    if vals.size == 1 and n != 1:
        vals = np.full(n, vals[0], vals.dtype)
    return Value(dims, const=vals.reshape(dims))


def h_identity(cv, node):
    return cv.get(node["input"][0])


def h_cast(cv, node):
    v = cv.get(node["input"][0])
    dst = node["attr"]["DstT"]["type"]
    if v.is_const:
        return Value(v.shape, const=v.const.astype(np.float32 if dst == "DT_FLOAT" else np.int32))
    if dst != "DT_FLOAT":
        raise ConversionError(f"Cast to {dst} of a dynamic value ({node['name']})")
    return v  # the ONNX graph is float32 throughout


def conv_like(cv, node, kind):
    """Conv2D, DepthwiseConv2dNative and their fused forms."""
    x = cv.get(node["input"][0])
    w = cv.const_value(node["input"][1]).astype(np.float32)
    if attr_str(node, "data_format", "NHWC") != "NHWC":
        raise ConversionError(f"{node['name']}: data_format must be NHWC")
    strides = attr_ints(node, "strides", [1, 1, 1, 1])
    dil = attr_ints(node, "dilations", [1, 1, 1, 1])
    padding = attr_str(node, "padding")
    kh, kw = w.shape[0], w.shape[1]
    n, h, wd, c = x.shape
    if kind == "depthwise":
        mult = w.shape[3]
        weight = w.transpose(2, 3, 0, 1).reshape(c * mult, 1, kh, kw)
        group = c
        cout = c * mult
    else:
        weight = w.transpose(3, 2, 0, 1)
        group = 1
        cout = w.shape[3]
    bias = None
    act = None
    fused = attr_strs(node, "fused_ops")
    if fused:
        extra = [cv.const_value(i).astype(np.float32) for i in node["input"][2:]]
        if fused[0] == "BiasAdd":
            bias = extra[0]
            rest = fused[1:]
        elif fused[0] == "FusedBatchNorm":
            scale, offset, mean, var = extra[:4]
            eps = attr_float(node, "epsilon", 0.0)
            k = scale / np.sqrt(var + eps)
            weight = weight * k.reshape(-1, 1, 1, 1)
            bias = offset - mean * k
            rest = fused[1:]
        else:
            raise ConversionError(f"{node['name']}: fused op {fused[0]}")
        if rest:
            if len(rest) != 1 or rest[0] not in ("Relu", "Relu6"):
                raise ConversionError(f"{node['name']}: fused activation {rest}")
            act = rest[0]
    pads = [0, 0, 0, 0]
    if padding == "SAME":
        t, b = same_pads(h, kh, strides[1], dil[1])
        l, r = same_pads(wd, kw, strides[2], dil[2])
        pads = [t, l, b, r]
    elif padding == "EXPLICIT":
        e = attr_ints(node, "explicit_paddings")
        pads = [e[2], e[4], e[3], e[5]]
    elif padding != "VALID":
        raise ConversionError(f"{node['name']}: padding {padding}")
    xin = cv.as_nchw(x)  # asymmetric pads are fine for OpenCV 4.6's Conv
    oh = (h + pads[0] + pads[2] - ((kh - 1) * dil[1] + 1)) // strides[1] + 1
    ow = (wd + pads[1] + pads[3] - ((kw - 1) * dil[2] + 1)) // strides[2] + 1
    if padding == "SAME":
        oh, ow = -(-h // strides[1]), -(-wd // strides[2])
    inputs = [xin, cv.init(weight.astype(np.float32), "w")]
    if bias is not None:
        inputs.append(cv.init(bias.astype(np.float32), "b"))
    out = cv.emit("Conv", inputs, node["name"], kernel_shape=[kh, kw], strides=strides[1:3],
                  dilations=dil[1:3], pads=[pads[0], pads[1], pads[2], pads[3]], group=group)
    v = Value([n, oh, ow, cout], name=out, nchw=True)
    if act == "Relu":
        v = Value(v.shape, name=cv.emit("Relu", [out], node["name"] + "_relu"), nchw=True)
    elif act == "Relu6":
        v = relu6(cv, v, node["name"])
    return v


def explicit_pad(cv, xname, pads, hint):
    t, l, b, r = pads
    p = cv.init(np.array([0, 0, t, l, 0, 0, b, r], np.int64), "pads")
    return cv.emit("Pad", [xname, p], hint + "_pad", mode="constant")


def relu6(cv, v, hint):
    """min(max(x, 0), 6): an opset-10 Clip, lowered at opset 11 (lower_to_opset)."""
    return Value(v.shape, name=cv.emit("Clip", [v.name], hint + "_relu6", min=0.0, max=6.0), nchw=v.nchw)


def h_conv2d(cv, node):
    return conv_like(cv, node, "conv")


def h_depthwise(cv, node):
    return conv_like(cv, node, "depthwise")


def h_conv_transpose(cv, node):
    out_shape = [int(d) for d in cv.const_value(node["input"][0])]
    w = cv.const_value(node["input"][1]).astype(np.float32)  # [kh, kw, out, in]
    x = cv.get(node["input"][2])
    strides = attr_ints(node, "strides")
    kh, kw = w.shape[0], w.shape[1]
    n, h, wd, c = x.shape
    oh, ow = out_shape[1], out_shape[2]
    # ConvTranspose: out = (in - 1) * s + k - pad_total
    pt_h = (h - 1) * strides[1] + kh - oh
    pt_w = (wd - 1) * strides[2] + kw - ow
    if pt_h < 0 or pt_w < 0:
        raise ConversionError(f"{node['name']}: output larger than the kernel covers")
    pads = [pt_h // 2, pt_w // 2, pt_h - pt_h // 2, pt_w - pt_w // 2]
    weight = w.transpose(3, 2, 0, 1)  # [in, out, kh, kw]
    out = cv.emit("ConvTranspose", [cv.as_nchw(x), cv.init(weight, "w")], node["name"],
                  kernel_shape=[kh, kw], strides=strides[1:3], pads=pads)
    return Value(out_shape, name=out, nchw=True)


def h_pool(cv, node):
    x = cv.get(node["input"][0])
    k = attr_ints(node, "ksize")
    s = attr_ints(node, "strides")
    padding = attr_str(node, "padding")
    n, h, wd, c = x.shape
    pads = [0, 0, 0, 0]
    if padding == "SAME":
        t, b = same_pads(h, k[1], s[1])
        l, r = same_pads(wd, k[2], s[2])
        pads = [t, l, b, r]
        oh, ow = -(-h // s[1]), -(-wd // s[2])
    else:
        oh, ow = (h - k[1]) // s[1] + 1, (wd - k[2]) // s[2] + 1
    xin = cv.as_nchw(x)
    op = "MaxPool" if node["op"] == "MaxPool" else "AveragePool"
    attrs = dict(kernel_shape=k[1:3], strides=s[1:3], pads=pads)
    if op == "AveragePool":
        attrs["count_include_pad"] = 0
    if any(pads) and (pads[0] != pads[2] or pads[1] != pads[3]):
        if op == "AveragePool":
            raise ConversionError(f"{node['name']}: asymmetric SAME average pooling")
        # Max pooling over padding: pad with a very low value.
        t, l, b, r = pads
        p = cv.init(np.array([0, 0, t, l, 0, 0, b, r], np.int64), "pads")
        low = cv.init(np.array(-3.0e38, np.float32), "low")
        xin = cv.emit("Pad", [xin, p, low], node["name"] + "_pad", mode="constant")
        attrs["pads"] = [0, 0, 0, 0]
    out = cv.emit(op, [xin], node["name"], **attrs)
    return Value([n, oh, ow, c], name=out, nchw=True)


def h_pad(cv, node):
    x = cv.get(node["input"][0])
    p = cv.const_value(node["input"][1]).astype(np.int64)
    if len(node["input"]) > 2 and float(cv.const_value(node["input"][2])) != 0.0:
        raise ConversionError(f"{node['name']}: non-zero pad value")
    if len(x.shape) != 4 or p[0].any():
        raise ConversionError(f"{node['name']}: padding must be of a 4-D image, not its batch")
    n, h, wd, c = x.shape
    out_shape = [n, h + p[1].sum(), wd + p[2].sum(), c + p[3].sum()]
    name = cv.as_nchw(x)
    if p[3].any():
        # Channel padding as a 1x1 convolution: identity for the channels that
        # are there, zeros for the new ones (OpenCV 4.6 pads only H and W).
        cout = out_shape[3]
        weight = np.zeros((cout, c, 1, 1), np.float32)
        for i in range(c):
            weight[p[3][0] + i, i, 0, 0] = 1.0
        name = cv.emit("Conv", [name, cv.init(weight, "w")], node["name"] + "_cpad", kernel_shape=[1, 1])
    if p[1].any() or p[2].any():
        name = explicit_pad(cv, name, [p[1][0], p[2][0], p[1][1], p[2][1]], node["name"])
    return Value(out_shape, name=name, nchw=True)


def broadcast_shape(a, b):
    return list(np.broadcast_shapes(tuple(a), tuple(b)))


NUMPY_BINARY = {
    "Add": np.add, "AddV2": np.add, "Sub": np.subtract, "Mul": np.multiply,
    "RealDiv": np.divide, "Maximum": np.maximum, "Minimum": np.minimum,
    "FloorDiv": np.floor_divide, "SquaredDifference": lambda a, b: (a - b) ** 2,
}


def h_binary(cv, node):
    op = node["op"]
    a, b = cv.get(node["input"][0]), cv.get(node["input"][1])
    if a.is_const and b.is_const:
        return Value(broadcast_shape(a.shape, b.shape), const=NUMPY_BINARY[op](a.const, b.const))
    shape = broadcast_shape(a.shape, b.shape)
    onnx_op = {"Add": "Add", "AddV2": "Add", "Sub": "Sub", "Mul": "Mul", "RealDiv": "Div",
               "Maximum": "Max", "Minimum": "Min"}.get(op)
    if onnx_op is None:
        raise ConversionError(f"{node['name']}: {op} of a dynamic value")
    if a.is_const or b.is_const:
        dyn = b if a.is_const else a
        const = a.const if a.is_const else b.const
        if list(dyn.shape) != shape:
            raise ConversionError(f"{node['name']}: a constant may not widen the value")
        nchw = dyn.nchw and len(shape) == 4
        x = cv.as_nchw(dyn) if nchw else cv.as_tf(dyn)
        const = np.asarray(const, np.float32)
        if a.is_const and onnx_op == "Sub":  # c - x = (x * -1) + c
            x = cv.emit("Mul", [x, cv.init(np.array(-1.0, np.float32), "minus1")], node["name"] + "_neg")
            onnx_op = "Add"
        elif a.is_const and onnx_op == "Div":
            raise ConversionError(f"{node['name']}: constant divided by a value")
        elif onnx_op == "Div":  # x / c = x * (1 / c): OpenCV scales by constants
            onnx_op, const = "Mul", (1.0 / const).astype(np.float32)
        # The dynamic operand goes first: OpenCV 4.6 takes the constant second.
        ins = [x, cv.broadcast_const(const, Value(shape, nchw=nchw))]
        return Value(shape, name=cv.emit(onnx_op, ins, node["name"]), nchw=nchw)
    if a.shape != b.shape:
        # Squeeze-and-excite: a 4-D value times per-channel weights [N,1,1,C].
        # OpenCV 4.6 takes the full-size operand first.
        if onnx_op == "Mul" and len(shape) == 4 and shape in (a.shape, b.shape):
            full, chan = (a, b) if a.shape == shape else (b, a)
            if chan.shape == [shape[0], 1, 1, shape[3]]:
                return Value(shape, name=cv.emit("Mul", [cv.as_nchw(full), cv.as_nchw(chan)], node["name"]),
                             nchw=True)
        raise ConversionError(f"{node['name']}: broadcasting two dynamic values {a.shape} {b.shape}")
    nchw = len(shape) == 4 and (a.nchw or b.nchw)
    conv = cv.as_nchw if nchw else cv.as_tf
    return Value(shape, name=cv.emit(onnx_op, [conv(a), conv(b)], node["name"]), nchw=nchw)


def h_unary(cv, node):
    x = cv.get(node["input"][0])
    if x.is_const:
        raise ConversionError(f"{node['name']}: {node['op']} of a constant")
    if node["op"] == "Relu6":
        return relu6(cv, x, node["name"])
    onnx_op = {"Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Sqrt": "Sqrt"}[node["op"]]
    return Value(x.shape, name=cv.emit(onnx_op, [x.name], node["name"]), nchw=x.nchw)


def h_addn(cv, node):
    vals = [cv.get(i) for i in node["input"]]
    if any(v.is_const for v in vals):
        raise ConversionError(f"{node['name']}: AddN with a constant")
    nchw = len(vals[0].shape) == 4 and any(v.nchw for v in vals)
    conv = cv.as_nchw if nchw else cv.as_tf
    acc = conv(vals[0])
    for v in vals[1:]:
        acc = cv.emit("Add", [acc, conv(v)], node["name"])
    return Value(vals[0].shape, name=acc, nchw=nchw)


def h_mean(cv, node):
    x = cv.get(node["input"][0])
    axes = sorted(int(a) % len(x.shape) for a in np.atleast_1d(cv.const_value(node["input"][1])))
    keep = attr_bool(node, "keep_dims")
    if len(x.shape) != 4 or axes != [1, 2]:
        raise ConversionError(f"{node['name']}: Mean over axes {axes} of rank {len(x.shape)}")
    return global_mean(cv, x, keep, node["name"])


def global_mean(cv, x, keep, hint):
    n, h, w, c = x.shape
    pooled = cv.emit("GlobalAveragePool", [cv.as_nchw(x)], hint)
    if keep:
        return Value([n, 1, 1, c], name=pooled, nchw=True)
    return Value([n, c], name=cv.emit("Flatten", [pooled], hint + "_flat", axis=1))


def h_concat(cv, node):
    vals = [cv.get(i) for i in node["input"][:-1]]
    axis = int(cv.const_value(node["input"][-1]))
    rank = len(vals[0].shape)
    axis %= rank
    if all(v.is_const for v in vals):
        return Value([], const=np.concatenate([v.const for v in vals], axis))
    if any(v.is_const for v in vals):
        raise ConversionError(f"{node['name']}: Concat with a constant")
    shape = list(vals[0].shape)
    shape[axis] = sum(v.shape[axis] for v in vals)
    nchw = rank == 4 and any(v.nchw for v in vals)
    if nchw:
        names = [cv.as_nchw(v) for v in vals]
        onnx_axis = {0: 0, 1: 2, 2: 3, 3: 1}[axis]
    else:
        names = [cv.as_tf(v) for v in vals]
        onnx_axis = axis
    return Value(shape, name=cv.emit("Concat", names, node["name"], axis=onnx_axis), nchw=nchw)


def resolve_shape(shape, total):
    shape = [int(s) for s in shape]
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1]))
        shape[shape.index(-1)] = total // known
    return shape


def reshape_to(cv, x, shape, hint):
    """x reshaped to TF `shape`. A reshape that only adds or drops leading
    ones of a 4-D NCHW value is done on its NCHW form."""
    if x.is_const:
        return Value(shape, const=x.const.reshape(shape))
    # A chain of reshapes that comes back to a shape it started from (MoveNet:
    # unstack, expand, squeeze, expand) is the value it started from.
    origin = getattr(x, "origin", None) or x
    if list(shape) == list(origin.shape):
        return origin
    s = cv.init(np.array(shape, np.int64), "shape")
    v = Value(shape, name=cv.emit("Reshape", [cv.as_tf(x), s], hint))
    v.origin = origin
    return v


def h_reshape(cv, node):
    x = cv.get(node["input"][0])
    total = int(np.prod(x.shape))
    shape = resolve_shape(cv.const_value(node["input"][1]), total)
    return reshape_to(cv, x, shape, node["name"])


def h_squeeze(cv, node):
    x = cv.get(node["input"][0])
    dims = attr_ints(node, "squeeze_dims") or [i for i, d in enumerate(x.shape) if d == 1]
    dims = [d % len(x.shape) for d in dims]
    shape = [d for i, d in enumerate(x.shape) if i not in dims]
    return reshape_to(cv, x, shape, node["name"])


def h_expand_dims(cv, node):
    x = cv.get(node["input"][0])
    axis = int(cv.const_value(node["input"][1]))
    shape = list(x.shape)
    axis = axis % (len(shape) + 1)
    shape.insert(axis, 1)
    return reshape_to(cv, x, shape, node["name"])


def h_unpack(cv, node):
    x = cv.get(node["input"][0])
    axis = attr_int(node, "axis", 0) % len(x.shape)
    if x.shape[axis] != 1:
        raise ConversionError(f"{node['name']}: Unpack of more than one slice")
    shape = [d for i, d in enumerate(x.shape) if i != axis]
    return reshape_to(cv, x, shape, node["name"])


def h_pack(cv, node):
    vals = [cv.get(i) for i in node["input"]]
    if not all(v.is_const for v in vals):
        raise ConversionError(f"{node['name']}: Pack of dynamic values")
    return Value([], const=np.stack([v.const for v in vals], attr_int(node, "axis", 0)))


def h_resize_bilinear(cv, node):
    x = cv.get(node["input"][0])
    size = [int(s) for s in cv.const_value(node["input"][1])]
    if attr_bool(node, "align_corners"):
        raise ConversionError(f"{node['name']}: align_corners")
    mode = "half_pixel" if attr_bool(node, "half_pixel_centers") else "asymmetric"
    n, h, w, c = x.shape
    roi = cv.init(np.zeros(0, np.float32), "roi")
    scales = cv.init(np.array([1, 1, size[0] / h, size[1] / w], np.float32), "scales")
    out = cv.emit("Resize", [cv.as_nchw(x), roi, scales], node["name"], mode="linear",
                  coordinate_transformation_mode=mode)
    return Value([n, size[0], size[1], c], name=out, nchw=True)


def h_fused_matmul(cv, node):
    x = cv.get(node["input"][0])
    w = cv.const_value(node["input"][1]).astype(np.float32)
    if attr_bool(node, "transpose_a"):
        raise ConversionError(f"{node['name']}: transpose_a")
    if attr_bool(node, "transpose_b"):
        w = w.T
    fused = attr_strs(node, "fused_ops")
    if node["op"] == "MatMul":
        fused = []
    if fused not in ([], ["BiasAdd"]):
        raise ConversionError(f"{node['name']}: fused ops {fused}")
    if len(x.shape) != 2:
        raise ConversionError(f"{node['name']}: MatMul of rank {len(x.shape)}")
    # Stored [N, K] with transB=1, the form OpenCV 4.6 reads (it mis-sizes
    # the bias of a transB=0 Gemm).
    inputs = [cv.as_tf(x), cv.init(np.ascontiguousarray(w.T), "w")]
    if fused:
        inputs.append(cv.init(cv.const_value(node["input"][2]).astype(np.float32), "b"))
    out = cv.emit("Gemm", inputs, node["name"], transB=1)
    return Value([x.shape[0], w.shape[1]], name=out)


OPS = {
    "Placeholder": h_placeholder, "Const": h_const, "Identity": h_identity, "Cast": h_cast,
    "Conv2D": h_conv2d, "_FusedConv2D": h_conv2d,
    "DepthwiseConv2dNative": h_depthwise, "FusedDepthwiseConv2dNative": h_depthwise,
    "Conv2DBackpropInput": h_conv_transpose,
    "MaxPool": h_pool, "AvgPool": h_pool, "Pad": h_pad,
    "Add": h_binary, "AddV2": h_binary, "Sub": h_binary, "Mul": h_binary, "RealDiv": h_binary,
    "Maximum": h_binary, "Minimum": h_binary, "FloorDiv": h_binary, "SquaredDifference": h_binary,
    "Relu": h_unary, "Relu6": h_unary, "Sigmoid": h_unary, "Tanh": h_unary, "Sqrt": h_unary,
    "AddN": h_addn, "Mean": h_mean, "ConcatV2": h_concat,
    "Reshape": h_reshape, "Squeeze": h_squeeze, "ExpandDims": h_expand_dims,
    "Unpack": h_unpack, "Pack": h_pack,
    "ResizeBilinear": h_resize_bilinear, "_FusedMatMul": h_fused_matmul, "MatMul": h_fused_matmul,
}


# ---------------------------------------------------------------- driver

def parse_output(spec):
    """"node[=name][:mean]" -> (node, name, pool)."""
    pool = None
    if spec.endswith(":mean"):
        spec, pool = spec[: -len(":mean")], "mean"
    node, _, name = spec.partition("=")
    return node, (name or node.split("/")[-1].replace(":", "_")), pool


def prune(nodes, initializers, outputs):
    """Drops the nodes (and initialisers) no output depends on, such as the
    reshapes of a chain that came back to its start."""
    producer = {o: n for n in nodes for o in n.output}
    needed, stack = set(), list(outputs)
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        if name in producer:
            stack.extend(producer[name].input)
    kept = [n for n in nodes if any(o in needed for o in n.output)]
    return kept, [i for i in initializers if i.name in needed]


def lower_to_opset(nodes, initializers):
    """Returns (nodes, initializers, opset). The nodes are emitted with Clip in
    its opset-10 form (bounds as attributes) and Pad in its opset-11 form (pads
    and value as inputs). A graph with a Resize needs opset 11: each Clip
    becomes Relu(x) - Relu(x - 6). Any other graph is written at opset 10: each
    Pad takes its pads and value as attributes. Unused initialisers are left
    for prune()."""
    if any(n.op_type == "Resize" for n in nodes):
        out, extra = [], []
        for n in nodes:
            if n.op_type != "Clip":
                out.append(n)
                continue
            lo, hi = (next(a.f for a in n.attribute if a.name == k) for k in ("min", "max"))
            if (lo, hi) != (0.0, 6.0):
                raise ConversionError(f"{n.name}: Clip({lo}, {hi}) at opset 11")
            x, y, base = n.input[0], n.output[0], n.output[0].rsplit("_relu6", 1)[0]
            six = base + "_six"
            extra.append(numpy_helper.from_array(np.array(6.0, np.float32), six))
            out += [helper.make_node("Relu", [x], [base + "_relu6a"], name=base + "_relu6a"),
                    helper.make_node("Sub", [x, six], [base + "_minus6"], name=base + "_minus6"),
                    helper.make_node("Relu", [base + "_minus6"], [base + "_relu6b"], name=base + "_relu6b"),
                    helper.make_node("Sub", [base + "_relu6a", base + "_relu6b"], [y], name=y)]
        return out, initializers + extra, OPSET
    consts = {i.name: numpy_helper.to_array(i) for i in initializers}
    out = []
    for n in nodes:
        if n.op_type != "Pad":
            out.append(n)
            continue
        pads = [int(p) for p in consts[n.input[1]]]
        value = float(consts[n.input[2]]) if len(n.input) > 2 and n.input[2] else 0.0
        out.append(helper.make_node("Pad", [n.input[0]], list(n.output), name=n.name, mode="constant",
                                    pads=pads, value=value))
    return out, initializers, 10


def convert(model, weights, outputs, input_name="input", graph_name="model", doc=""):
    """Returns (onnx.ModelProto, signature dict)."""
    cv = Converter(model, weights, input_name)
    out_infos = []
    signature_outputs = []
    for spec in outputs:
        node, name, pool = parse_output(spec)
        v = cv.get(node)
        if v.is_const:
            raise ConversionError(f"output {node} is a constant")
        if pool == "mean":
            v = global_mean(cv, v, False, name + "_pool")
        if len(v.shape) == 4:
            src, shape, layout = cv.as_nchw(v), to_nchw_shape(v.shape), "NCHW"
        else:
            src, shape, layout = cv.as_tf(v), list(v.shape), "TF"
        cv.onnx_nodes.append(helper.make_node("Identity", [src], [name], name=name))
        out_infos.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        signature_outputs.append({"name": name, "tf_node": node, "pool": pool, "shape": shape,
                                  "layout": layout})
    if len(cv.inputs) != 1:
        raise ConversionError(f"the cut graph has {len(cv.inputs)} inputs, expected 1")
    output_names = [o["name"] for o in signature_outputs]
    nodes, initializers = prune(cv.onnx_nodes, cv.initializers, output_names)
    nodes, initializers, opset = lower_to_opset(nodes, initializers)
    nodes, initializers = prune(nodes, initializers, output_names)
    graph = helper.make_graph(nodes, graph_name, cv.inputs, out_infos, initializers)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="sopilot-tfjs_to_onnx", producer_version=CONVERTER_VERSION,
                          doc_string=doc)
    m.ir_version = 6
    onnx.checker.check_model(m)
    input_shape = [d.dim_value for d in cv.inputs[0].type.tensor_type.shape.dim]
    signature = {"input": {"name": input_name, "shape": input_shape, "layout": "NCHW"},
                 "outputs": signature_outputs, "opset": opset, "converter_version": CONVERTER_VERSION}
    return m, signature


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model_json")
    ap.add_argument("out_onnx")
    ap.add_argument("--weights-dir")
    ap.add_argument("--output", action="append", default=[],
                    help="TF node to expose, as node[=name][:mean]; default: the signature's outputs")
    ap.add_argument("--input-name", default="input")
    ap.add_argument("--signature", help="write the ONNX graph's signature (JSON) here")
    args = ap.parse_args(argv)
    with open(args.model_json) as f:
        model = json.load(f)
    weights_dir = args.weights_dir or os.path.dirname(os.path.abspath(args.model_json))
    outputs = args.output
    if not outputs:
        sig = model.get("signature") or model.get("userDefinedMetadata", {}).get("signature")
        outputs = sorted(o["name"] for o in sig["outputs"].values())
    try:
        weights = load_weights(model, weights_dir)
        m, signature = convert(model, weights, outputs, args.input_name,
                               os.path.splitext(os.path.basename(args.out_onnx))[0])
    except ConversionError as e:
        print(f"tfjs_to_onnx: {args.model_json}: {e}", file=sys.stderr)
        return 1
    tmp = args.out_onnx + ".tmp"
    with open(tmp, "wb") as f:
        f.write(m.SerializeToString())
    os.replace(tmp, args.out_onnx)
    if args.signature:
        with open(args.signature, "w") as f:
            json.dump(signature, f, indent=2, sort_keys=True)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
