#!/usr/bin/env python3
"""Converts the Python original's heuristic-v1 embeddings (an .npz of float32
arrays, one per demo video) into testdata/original_heuristic_v1/<name>.f32:
raw little-endian float32, row-major, 904 columns. Standard library only
(an .npz is a zip of .npy files), so it runs without numpy.

Usage: tools/convert_reference_embeddings.py ../shared/reference/original-demo-embeddings.npz testdata/original_heuristic_v1
"""
import ast
import struct
import sys
import zipfile
from pathlib import Path


def read_npy(data: bytes):
    if data[:6] != b"\x93NUMPY":
        raise ValueError("not an .npy array")
    major = data[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", data[8:10])
        start = 10
    else:
        (hlen,) = struct.unpack("<I", data[8:12])
        start = 12
    header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    if header["descr"] != "<f4" or header["fortran_order"]:
        raise ValueError(f"expected C-order little-endian float32, got {header}")
    return header["shape"], data[start + hlen:]


def main():
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(src) as z:
        for name in sorted(z.namelist()):
            shape, payload = read_npy(z.read(name))
            rows, cols = shape
            if cols != 904 or len(payload) != rows * cols * 4:
                raise ValueError(f"{name}: unexpected shape {shape}")
            target = out / (Path(name).stem + ".f32")
            target.write_bytes(payload)
            print(f"{name}: {rows}x{cols} -> {target}")


if __name__ == "__main__":
    main()
