#!/usr/bin/env python3
"""End-to-end check of `jitfuse run` with .npy inputs and outputs, on a GPU machine.

Writes x, w, bias with NumPy (f32, and f32 arrays for a bf16 graph), runs the CLI with --input
and --output, and compares out.npy with PyTorch's float64 Linear -> *0.5 -> Hardtanh -> GELU.

    python3 tests/gpu/cli_npy_roundtrip.py path/to/jitfuse
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


def reference(x, w, b):
    y = F.linear(torch.from_numpy(x).double(), torch.from_numpy(w).double(), torch.from_numpy(b).double())
    return F.gelu(F.hardtanh(y * 0.5, -2.0, 2.0)).numpy()


def bf16(a):
    return torch.from_numpy(a).to(torch.bfloat16).float().numpy()  # what jitfuse reads, exactly


def main():
    jitfuse = sys.argv[1]
    graph = json.loads(Path("examples/linear_scale_hardtanh_gelu.json").read_text())
    rng = np.random.default_rng(7)
    m, k, n = 37, 8192, 8192
    ok = True
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        for dtype, tol in (("f32", 1e-4), ("bf16", 1e-2)):
            for v in graph["inputs"].values():
                v["dtype"] = dtype
            (d / "g.json").write_text(json.dumps(graph))
            x = rng.uniform(-1, 1, (m, k)).astype(np.float32)
            w = (rng.uniform(-1, 1, (n, k)) / np.sqrt(k)).astype(np.float32)
            b = (rng.uniform(-1, 1, (n,)) / np.sqrt(k)).astype(np.float32)
            for name, a in (("x", x), ("w", w), ("b", b)):
                np.save(d / f"{name}.npy", a)
            cmd = [jitfuse, "run", str(d / "g.json"), "--input", f"x={d}/x.npy", "--input", f"w={d}/w.npy",
                   "--input", f"bias={d}/b.npy", "--output", f"out={d}/out.npy", "--check"]
            r = subprocess.run(cmd, capture_output=True, text=True)
            print(r.stdout.strip())
            out = np.load(d / "out.npy")
            if dtype == "bf16":
                x, w, b = bf16(x), bf16(w), bf16(b)
            want = reference(x, w, b)
            err = np.abs(out.astype(np.float64) - want)
            passed = r.returncode == 0 and out.shape == (m, n) and out.dtype == np.float32 and \
                bool(np.all(err <= tol + tol * np.abs(want)))
            print(f"{dtype}: out.npy {out.shape} {out.dtype}, max abs err vs torch float64 {err.max():.3g}: "
                  f"{'PASS' if passed else 'FAIL'}")
            ok = ok and passed
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
