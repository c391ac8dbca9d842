#!/usr/bin/python3
"""Writes the tiny ONNX networks src/embed/dnn_model_test.cc runs.

Each computes y = 2 * GlobalAveragePool(x) + 1, flattened, so a test can
check the output from the input by hand. Run with Debian's python3-onnx:
    /usr/bin/python3 tools/models/make_test_models.py testdata/onnx
The files are committed (a few hundred bytes each); the script is here so
that they can be made again and read.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def pool_affine(batch, opset):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 3])
    two = numpy_helper.from_array(np.array([2.0], np.float32), "two")
    one = numpy_helper.from_array(np.array([1.0], np.float32), "one")
    nodes = [
        helper.make_node("GlobalAveragePool", ["x"], ["pooled"], name="pool"),
        helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten", axis=1),
        helper.make_node("Mul", ["flat", "two"], ["scaled"], name="scale"),
        helper.make_node("Add", ["scaled", "one"], ["y"], name="y"),
    ]
    graph = helper.make_graph(nodes, "pool_affine", [x], [y], initializer=[two, one])
    model = helper.make_model(graph, producer_name="sopilot-test",
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    return model


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, batch, opset in [("pool_affine_b1.onnx", 1, 11),
                               ("pool_affine_dynamic.onnx", "N", 11),
                               ("pool_affine_opset99.onnx", 1, 99)]:
        model = pool_affine(batch, opset)
        if opset <= 17:
            onnx.checker.check_model(model)
        onnx.save(model, os.path.join(out, name))


if __name__ == "__main__":
    main()
