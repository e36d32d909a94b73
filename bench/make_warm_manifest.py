#!/usr/bin/env python3
"""Writes bench/manifests/warm20.json: 20 distinct graphs x 2 archs, for `jitfuse warm` throughput.

The graphs vary what changes the generated kernel: dtype, math mode, B layout, bias, the
epilogue chain and the shape (which picks the tile configuration).
"""
import itertools
import json
import random
from pathlib import Path

CHAINS = [
    [{"op": "scale", "factor": 0.5}, {"op": "hardtanh", "min": -2.0, "max": 2.0}, {"op": "gelu"}],
    [{"op": "gelu", "approximate": "tanh"}],
    [{"op": "hardtanh"}],
    [{"op": "scale", "factor": 2.0}, {"op": "gelu"}],
]
SHAPES = [(8192, 8192), (1024, 512), (4096, 1024), (768, 3072), (3072, 768)]


def graph(i, dtype, layout, bias, chain, n, k):
    w = [k, n] if layout == "kn" else [n, k]
    inputs = {"x": {"dtype": dtype, "shape": ["M", k]}, "w": {"dtype": dtype, "shape": w}}
    if bias:
        inputs["bias"] = {"dtype": dtype, "shape": [n]}
    nodes = [{"name": "y", "op": "gemm", "inputs": ["x", "w"] + (["bias"] if bias else []), "b_layout": layout}]
    prev = "y"
    for j, op in enumerate(chain):
        name = "out" if j == len(chain) - 1 else f"e{j}"
        nodes.append({"name": name, "inputs": [prev], **op})
        prev = name
    return {"name": f"warm{i:02d}", "inputs": inputs, "nodes": nodes, "outputs": [prev]}


def main():
    combos = list(itertools.product(["f32", "bf16", "f16"], ["nk", "kn"], [True, False], range(len(CHAINS))))
    graphs = []
    for i, (dtype, layout, bias, c) in enumerate(random.Random(0).sample(combos, 20)):
        n, k = SHAPES[i % len(SHAPES)]
        graphs.append(graph(i, dtype, layout, bias, CHAINS[c], n, k))
    manifest = {"graphs": graphs, "archs": ["sm_80", "sm_90a"], "math": ["ieee"], "dims": [{"M": 2048}]}
    out = Path(__file__).parent / "manifests" / "warm20.json"
    out.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {out}: {len(graphs)} graphs x {len(manifest['archs'])} archs")


if __name__ == "__main__":
    main()
