#!/usr/bin/python3
"""How well an embedder tells the hand-washing steps apart across takes.

Every 2 s clip of a take's per-step videos (../shared/fixtures/handwash/clips)
gets the step of the nearest step centroid of another take, after each
take's mean clip is subtracted (as the scoring's comparison space does).
Prints the accuracy per embedder for the same-basin pairs (004 <-> 008, the
same sink without shared footage) and the other-basin pairs (004 or 008 <->
010). 12 steps: chance is about 8 %. doc/embedders.md quotes the figures.

"In order" is what the order of the steps adds: the test take's step videos
(those both takes hold) are read one after the other, in step order, and
cut into that many contiguous stretches, one per step, where the sum of
each clip's similarity to its stretch's centroid is highest. It is the
share of clips that land in their own step's stretch: what an alignment
that knows the take is correct and in order could reach with these
features, an upper bound for the scoring of a correct take.

    tools/models/step_separation.py build/sopilot heuristic-v1 motion-v1+appearance-v1

Embeddings are cached under $STEP_SEPARATION_CACHE (default
/tmp/sopilot-step-separation/<embedder>/); delete it after changing an
embedder. The learned embedders read SOPILOT_MODELS_DIR as sopilot does.
"""
import json
import os
import struct
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLIPS = os.path.join(os.path.dirname(ROOT), "shared", "fixtures", "handwash", "clips")
CACHE = os.environ.get("STEP_SEPARATION_CACHE", "/tmp/sopilot-step-separation")
TAKES = ["004", "008", "010"]
SAME_BASIN = [("004", "008"), ("008", "004")]  # (reference, test)
OTHER_BASIN = [("004", "010"), ("010", "004"), ("008", "010"), ("010", "008")]


def read_embeddings(path):
    """The vectors of an embedding file (src/embed/embedding_file.h)."""
    data = open(path, "rb").read()
    if data[:8] != b"SOPEMBED":
        raise ValueError(path + ": not an embedding file")
    header_len = struct.unpack("<I", data[12:16])[0]
    header = json.loads(data[16:16 + header_len])
    n, d = header["clip_count"], header["dim"]
    at = 16 + header_len + 16 * n
    return np.frombuffer(data[at:at + 4 * n * d], dtype="<f4").reshape(n, d)


def embed(binary, embedder, video):
    out = os.path.join(CACHE, embedder, os.path.basename(video) + ".emb")
    if not os.path.exists(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        subprocess.run([binary, "embed", "--embedder", embedder, "--out", out, video], check=True,
                       stdout=subprocess.DEVNULL)
    return read_embeddings(out)


def takes(binary, embedder):
    """{take: [(step code, clips x dim)]}, one entry per step video."""
    result = {}
    for name in sorted(os.listdir(CLIPS)):
        parts = name.split("_")  # HandWash_<take>_A_<code>_G...
        if len(parts) < 4 or parts[1] not in TAKES:
            continue
        result.setdefault(parts[1], []).append((int(parts[3]), embed(binary, embedder, os.path.join(CLIPS, name))))
    return result


def centred(videos):
    mean = np.vstack([x for _, x in videos]).mean(0)
    out = []
    for code, x in videos:
        y = x - mean
        out.append((code, y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-9)))
    return out


def step_centroids(reference, codes):
    """Unit mean clip of each step code of `reference`, one row per code."""
    centroids = np.vstack([np.vstack([x for c, x in reference if c == k]).mean(0) for k in codes])
    return centroids / np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-9)


def accuracy(reference, test):
    codes = sorted({c for c, _ in reference})
    centroids = step_centroids(reference, codes)
    right = total = 0
    for code, x in test:
        if code not in codes:
            continue
        guess = np.array(codes)[np.argmax(x @ centroids.T, axis=1)]
        right += int((guess == code).sum())
        total += len(guess)
    return right / max(total, 1)


def in_order_accuracy(reference, test):
    codes = sorted({c for c, _ in reference} & {c for c, _ in test})
    centroids = step_centroids(reference, codes)
    clips = [(code, x) for code, x in sorted(test, key=lambda v: v[0]) if code in codes]
    truth = np.concatenate([np.full(len(x), codes.index(code)) for code, x in clips])
    sim = np.vstack([x for _, x in clips]) @ centroids.T  # clips x steps
    n, k = sim.shape
    cum = np.vstack([np.zeros(k), np.cumsum(sim, axis=0)])
    # best[i]: the best sum for the first i clips cut into the steps so far;
    # start[j][i]: where step j starts when it ends after clip i.
    best = np.full(n + 1, -np.inf)
    best[0] = 0.0
    start = []
    for j in range(k):
        opened = best - cum[:, j]  # step j opened after clip p
        nxt = np.full(n + 1, -np.inf)
        where = np.zeros(n + 1, dtype=int)
        top = 0
        for i in range(1, n + 1):
            if opened[i - 1] > opened[top]:
                top = i - 1
            nxt[i] = opened[top] + cum[i, j]
            where[i] = top
        start.append(where)
        best = nxt
    labels = np.empty(n, dtype=int)
    end = n
    for j in range(k - 1, -1, -1):
        labels[start[j][end]:end] = j
        end = start[j][end]
    return float((labels == truth).mean())


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    if not os.path.isdir(CLIPS):
        sys.exit("step_separation: no " + CLIPS + " (a clone without the shared fixtures)")
    binary = sys.argv[1]
    for embedder in sys.argv[2:]:
        d = {t: centred(v) for t, v in takes(binary, embedder).items()}
        same = [accuracy(d[a], d[b]) for a, b in SAME_BASIN]
        other = [accuracy(d[a], d[b]) for a, b in OTHER_BASIN]
        same_ordered = [in_order_accuracy(d[a], d[b]) for a, b in SAME_BASIN]
        other_ordered = [in_order_accuracy(d[a], d[b]) for a, b in OTHER_BASIN]
        print(f"{embedder:40s} same basin {100 * np.mean(same):5.1f} %   other basin {100 * np.mean(other):5.1f} %"
              f"   in order: same basin {100 * np.mean(same_ordered):5.1f} %   other basin "
              f"{100 * np.mean(other_ordered):5.1f} %", flush=True)


if __name__ == "__main__":
    main()
