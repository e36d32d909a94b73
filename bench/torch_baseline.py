#!/usr/bin/env python3
"""PyTorch baselines for the example graph: Linear -> *0.5 -> Hardtanh(-2, 2) -> GELU.

Times, on the same shapes as bench/bench_gemm.cpp: F.linear alone (cuBLAS GEMM+bias), the
eager four-kernel chain, and optionally torch.compile. Large shapes: median of CUDA-event
timings; small shapes: a CUDA graph of 50 launches, divided by 50. Writes JSON, with the driver
and the GPU's clocks, temperature and power (nvidia-smi) before the first case and after each.

    python3 bench/torch_baseline.py --out bench/results/torch.json [--compile]
"""
import argparse
import datetime
import json
import statistics
import subprocess

import torch
import torch.nn.functional as F

CASES = [  # dtype, M, N, K, graph-timed
    ("f32", 2048, 8192, 8192, False),
    ("bf16", 2048, 8192, 8192, False),
    ("f16", 2048, 8192, 8192, False),
    ("bf16", 4096, 4096, 4096, False),
    ("bf16", 1024, 8192, 8192, False),
    ("f32", 128, 1024, 512, True),
    ("bf16", 128, 1024, 512, True),
]
DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}


def chain(x, w, b):
    y = F.linear(x, w, b)
    return F.gelu(F.hardtanh(y * 0.5, -2.0, 2.0))


def time_events(fn, reps):
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    start = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    stop = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    for i in range(reps):
        start[i].record()
        fn()
        stop[i].record()
    torch.cuda.synchronize()
    return [s.elapsed_time(e) * 1000.0 for s, e in zip(start, stop)]


def time_graph(fn, reps, per_graph=50):
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(per_graph):
            fn()
    return [t / per_graph for t in time_events(graph.replay, reps)]


def gpu_state():
    """The driver and the GPU's clocks, temperature and power now, from nvidia-smi; None where it
    cannot say. (The GPU machines have one GPU: its first line.)"""
    fields = ["driver_version", "clocks.sm", "clocks.max.sm", "clocks.mem", "temperature.gpu", "power.draw"]
    keys = ["driver", "sm_mhz", "sm_max_mhz", "mem_mhz", "temperature_c", "power_w"]
    state = dict.fromkeys(keys)
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=" + ",".join(fields), "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=20, check=True).stdout.splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return state
    for key, value in zip(keys, (v.strip() for v in out.split(","))):
        if key == "driver":
            state[key] = value
            continue
        try:
            state[key] = float(value) if key == "power_w" else int(float(value))
        except ValueError:
            pass
    return state


def summary(samples):
    samples = sorted(samples)
    return {"median_us": statistics.median(samples), "min_us": samples[0],
            "p90_us": samples[min(len(samples) - 1, int(0.9 * len(samples)))], "runs": len(samples)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--compile", action="store_true", help="also time torch.compile")
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False  # f32 means IEEE f32, as KernelBench's tolerance needs
    torch.manual_seed(0)
    before = gpu_state()
    results = []
    for name, m, n, k, graph in CASES:
        dt = DTYPES[name]
        x = torch.randn(m, k, device="cuda", dtype=dt)
        lin = torch.nn.Linear(k, n, device="cuda", dtype=dt)
        w, b = lin.weight.detach(), lin.bias.detach()
        timer = (lambda fn: time_graph(fn, 50)) if graph else (lambda fn: time_events(fn, 30))
        row = {"dtype": name, "m": m, "n": n, "k": k, "timing": "cuda graph of 50" if graph else "events"}
        flops = 2.0 * m * n * k
        for label, fn in [("torch_linear", lambda: F.linear(x, w, b)), ("torch_eager", lambda: chain(x, w, b))]:
            row[label] = summary(timer(fn))
            row[label]["tflops"] = flops / (row[label]["median_us"] * 1e-6) / 1e12
        if args.compile and not graph:
            compiled = torch.compile(chain)
            row["torch_compile"] = summary(timer(lambda: compiled(x, w, b)))
            row["torch_compile"]["tflops"] = flops / (row["torch_compile"]["median_us"] * 1e-6) / 1e12
        row["sm_mhz_after"] = gpu_state()["sm_mhz"]  # the clock right after the timed runs
        results.append(row)
        print(f"{name:5} {m}x{n}x{k}: linear {row['torch_linear']['median_us']:.1f} us, "
              f"eager {row['torch_eager']['median_us']:.1f} us"
              + (f", compile {row['torch_compile']['median_us']:.1f} us" if "torch_compile" in row else ""),
              flush=True)
    doc = {"tool": "torch_baseline.py", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
           "card": torch.cuda.get_device_name(0), "driver": before["driver"], "torch": torch.__version__,
           "cuda": torch.version.cuda, "gpu_before": before, "gpu_after": gpu_state(), "results": results}
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=2)


if __name__ == "__main__":
    main()
