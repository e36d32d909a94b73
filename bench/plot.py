#!/usr/bin/env python3
"""TFLOP/s by shape for jitfuse, cuBLASLt and PyTorch, from the benchmarks' JSON files.

    python3 bench/plot.py --bench bench/results/X-jitfuse-vs-cublaslt.json \
        [--torch bench/results/Y-torch.json] --out docs/perf-tflops.png

--bench is bench/bench_gemm.cpp's output (jitfuse and cuBLASLt, one process); --torch is
bench/torch_baseline.py's (PyTorch eager and, when timed, torch.compile). Cases are matched on
dtype and M x N x K; f32 cases of the benchmark name their math mode. Needs matplotlib (the GPU
machine has it).
"""
import argparse
import json
import sys


def label(r):
    math = r.get("math", "")
    kind = r["dtype"] if r["dtype"] != "f32" else f"f32 {math}".strip()
    return f"{r['m']}x{r['n']}x{r['k']}\n{kind}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", required=True, help="bench_gemm.cpp JSON")
    ap.add_argument("--torch", help="torch_baseline.py JSON")
    ap.add_argument("--out", required=True, help="PNG to write")
    args = ap.parse_args()
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot.py needs matplotlib", file=sys.stderr)
        return 2

    bench = json.load(open(args.bench))
    torch = json.load(open(args.torch)) if args.torch else {"results": []}
    torch_by = {(r["dtype"], r["m"], r["n"], r["k"]): r for r in torch["results"]}

    labels, series = [], {"jitfuse (fused)": [], "cuBLASLt GEMM+bias": [],
                          "PyTorch eager (4 kernels)": [], "torch.compile": []}
    for r in bench["results"]:
        labels.append(label(r))
        series["jitfuse (fused)"].append(r["jitfuse"]["tflops"])
        series["cuBLASLt GEMM+bias"].append(r["cublaslt_gemm_bias"]["tflops"])
        # PyTorch's f32 numbers are IEEE (or TF32 when it was allowed): match f32 ieee only.
        t = torch_by.get((r["dtype"], r["m"], r["n"], r["k"]))
        usable = t is not None and (r["dtype"] != "f32" or r.get("math") == "ieee")
        flops = 2.0 * r["m"] * r["n"] * r["k"]

        def tflops(key):  # files before 2026-11-26 have no "tflops" for torch_compile
            if not usable or key not in t:
                return 0
            return t[key].get("tflops", flops / (t[key]["median_us"] * 1e-6) / 1e12)
        series["PyTorch eager (4 kernels)"].append(tflops("torch_eager"))
        series["torch.compile"].append(tflops("torch_compile"))
    series = {k: v for k, v in series.items() if any(v)}

    fig, ax = plt.subplots(figsize=(max(8, 1.4 * len(labels)), 5))
    width = 0.8 / len(series)
    for i, (name, values) in enumerate(series.items()):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(labels))]
        bars = ax.bar(xs, values, width, label=name)
        for b, v in zip(bars, values):
            if v:
                ax.annotate(f"{v:.0f}", (b.get_x() + b.get_width() / 2, v), ha="center",
                            va="bottom", fontsize=7)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("TFLOP/s (2 M N K / median time)")
    ax.set_title(f"Linear -> *0.5 -> Hardtanh -> GELU on {bench['card']}, {bench['date'][:10]}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
