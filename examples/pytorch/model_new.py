#!/usr/bin/env python3
"""A KernelBench-style ModelNew: Linear -> *0.5 -> Hardtanh(-2, 2) -> GELU as one jitfuse kernel.

`Model` is the PyTorch reference (KernelBench's "Gemm_Scaling_Hardtanh_GELU"). `ModelNew` holds
the same `nn.Linear`, so the same seed gives it the same weights, and runs the whole chain as the
fused kernel of examples/linear_scale_hardtanh_gelu.json (the _bf16 file for bf16). `main` checks
ModelNew against Model (f32 at atol = rtol = 1e-4, bf16 at 1e-2) and prints the median time of
eager PyTorch, torch.compile and jitfuse (CUDA events, after warm-up runs).

    python3 examples/pytorch/model_new.py [--dtype f32|bf16|both] [--math ieee|tf32x3]
            [--batch 2048] [--in-features 8192] [--out-features 8192] [--reps 20]
            [--warmup 5] [--no-compile] [--out result.json]

Exits 1 when a check fails, 0 after printing "skipped: no torch" or "skipped: no CUDA device"
where it cannot run. jitfuse is found as python/jitfuse_torch says (JITFUSE_BUILD_DIR,
JITFUSE_PREFIX, or the repository's build/).
"""
import argparse
import datetime
import json
import statistics
import subprocess
import sys
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))  # jitfuse_torch
GRAPHS = {"f32": REPO / "examples/linear_scale_hardtanh_gelu.json",
          "bf16": REPO / "examples/linear_scale_hardtanh_gelu_bf16.json"}

try:
    import torch
    from torch import nn
except ImportError:
    torch = None
    nn = None

if torch is not None:
    class Model(nn.Module):
        """The reference: a GEMM, a scaling, a hardtanh and a GELU, as four PyTorch ops."""

        def __init__(self, in_features, out_features, scaling_factor=0.5, hardtanh_min=-2.0,
                     hardtanh_max=2.0):
            super().__init__()
            self.gemm = nn.Linear(in_features, out_features)
            self.scaling_factor = scaling_factor
            self.hardtanh = nn.Hardtanh(min_val=hardtanh_min, max_val=hardtanh_max)
            self.gelu = nn.GELU()

        def forward(self, x):
            x = self.gemm(x)
            x = x * self.scaling_factor
            x = self.hardtanh(x)
            return self.gelu(x)

    class ModelNew(nn.Module):
        """Model with the chain fused into one jitfuse kernel (forward only)."""

        def __init__(self, in_features, out_features, scaling_factor=0.5, hardtanh_min=-2.0,
                     hardtanh_max=2.0, math="ieee"):
            super().__init__()
            self.gemm = nn.Linear(in_features, out_features)  # first, as in Model: same weights
            self.scaling_factor = scaling_factor
            self.hardtanh_min, self.hardtanh_max = hardtanh_min, hardtanh_max
            self.math = math
            self._fns = {}  # torch dtype -> compiled graph

        def graph(self, dtype):
            """The example graph, with this layer's sizes, factor and bounds, in `dtype`."""
            name = {torch.float32: "f32", torch.bfloat16: "bf16", torch.float16: "f16"}[dtype]
            g = json.loads(GRAPHS.get(name, GRAPHS["f32"]).read_text())
            n, k = self.gemm.weight.shape  # nn.Linear's weight is [out, in]: b_layout "nk"
            g["inputs"]["x"]["shape"] = ["M", k]
            g["inputs"]["w"]["shape"] = [n, k]
            g["inputs"]["bias"]["shape"] = [n]
            for spec in g["inputs"].values():
                spec["dtype"] = name
            attrs = {"gemm": {"b_layout": "nk"}, "scale": {"factor": self.scaling_factor},
                     "hardtanh": {"min": self.hardtanh_min, "max": self.hardtanh_max}}
            for node in g["nodes"]:
                node.update(attrs.get(node["op"], {}))
            return g

        def forward(self, x):
            import jitfuse_torch

            w = self.gemm.weight
            fn = self._fns.get(w.dtype)
            if fn is None:
                fn = self._fns[w.dtype] = jitfuse_torch.compile(self.graph(w.dtype), math=self.math)
            rows = x.reshape(-1, x.shape[-1]).contiguous()  # nn.Linear takes [*, in]
            out = fn(rows, w, self.gemm.bias)
            return out.reshape(*x.shape[:-1], out.shape[-1])

    # KernelBench's problem definition: the shapes and Model's constructor arguments.
    batch_size, in_features, out_features = 2048, 8192, 8192

    def get_inputs():
        return [torch.randn(batch_size, in_features)]

    def get_init_inputs():
        return [in_features, out_features, 0.5, -2.0, 2.0]


def time_events(fn, warmup, reps):
    """Per-run microseconds of `fn`, from CUDA events around each run."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    stop = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    for i in range(reps):
        start[i].record()
        fn()
        stop[i].record()
    torch.cuda.synchronize()
    return sorted(s.elapsed_time(e) * 1000.0 for s, e in zip(start, stop))


def timing(samples, flops):
    median = statistics.median(samples)
    return {"median_us": median, "min_us": samples[0], "runs": len(samples),
            "tflops": flops / (median * 1e-6) / 1e12}


def errors(got, want):
    diff = (got.double() - want.double()).abs()
    rel = diff / want.double().abs().clamp_min(1e-30)
    return {"max_abs_err": diff.max().item(), "max_rel_err": rel[want != 0].max().item()}


def driver_version():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader",
                              "-i", str(torch.cuda.current_device())],
                             capture_output=True, text=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    v = getattr(torch._C, "_cuda_getDriverVersion", lambda: None)()
    return f"CUDA driver API {v // 1000}.{v % 1000 // 10}" if v else "unknown"


def run_case(args, dtype_name):
    """Checks and times one dtype; returns its result row."""
    import jitfuse_torch

    dtype = {"f32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    tol = 1e-4 if dtype_name == "f32" else 1e-2
    math = args.math if dtype_name == "f32" else "ieee"  # f16/bf16 always use tensor cores
    sizes = (args.in_features, args.out_features)
    torch.manual_seed(args.seed)
    model = Model(*sizes).cuda().to(dtype)
    torch.manual_seed(args.seed)
    model_new = ModelNew(*sizes, math=math).cuda().to(dtype)
    assert torch.equal(model.gemm.weight, model_new.gemm.weight), "the seeds gave different weights"
    x = torch.randn(args.batch, args.in_features, device="cuda", dtype=dtype)
    flops = 2.0 * args.batch * args.in_features * args.out_features
    row = {"dtype": dtype_name, "math": math if dtype_name == "f32" else "tensor cores (bf16)",
           "atol": tol, "rtol": tol}

    with torch.no_grad():
        want = model(x)
        got = model_new(x)
        torch.cuda.synchronize()
        row.update(errors(got, want))
        close = torch.allclose(got, want, atol=tol, rtol=tol)
        row["pass"] = bool(close) and not bool(got.isnan().any())
        # Both against float64, to tell whose rounding dominates.
        exact = model.double()(x.double())
        model.to(dtype)
        row["max_abs_err_vs_fp64"] = {"eager": errors(want, exact)["max_abs_err"],
                                      "jitfuse": errors(got, exact)["max_abs_err"]}
        del exact
        print(f"{dtype_name} ({row['math']}) {args.batch}x{args.in_features} -> {args.out_features}: "
              f"max abs err {row['max_abs_err']:.3g}, max rel err {row['max_rel_err']:.3g} vs eager; "
              f"allclose(atol=rtol={tol}): {'PASS' if row['pass'] else 'FAIL'}", flush=True)
        print(f"  max abs err vs float64: eager {row['max_abs_err_vs_fp64']['eager']:.3g}, "
              f"jitfuse {row['max_abs_err_vs_fp64']['jitfuse']:.3g}", flush=True)
        row["jitfuse_kernels"] = model_new._fns[dtype].specializations

        times = {"eager": timing(time_events(lambda: model(x), args.warmup, args.reps), flops)}
        if args.no_compile:
            row["torch_compile_error"] = "not run (--no-compile)"
        else:
            try:
                compiled = torch.compile(model)
                compiled_out = compiled(x)  # compiles here
                row["torch_compile_max_abs_err"] = errors(compiled_out, want)["max_abs_err"]
                samples = time_events(lambda: compiled(x), args.warmup, args.reps)
                times["torch_compile"] = timing(samples, flops)
            except Exception as e:  # noqa: BLE001: report it and go on with the rest
                first_line = str(e).splitlines()[0] if str(e) else ""
                row["torch_compile_error"] = f"{type(e).__name__}: {first_line}"
                print(f"  torch.compile failed: {row['torch_compile_error']}", flush=True)
        times["jitfuse"] = timing(time_events(lambda: model_new(x), args.warmup, args.reps), flops)
    row["times"] = times
    parts = [f"{k} {v['median_us']:.1f} us ({v['tflops']:.1f} TFLOP/s)" for k, v in times.items()]
    print(f"  median of {args.reps}: " + " | ".join(parts) +
          f" | jitfuse {times['eager']['median_us'] / times['jitfuse']['median_us']:.2f}x eager",
          flush=True)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dtype", choices=["f32", "bf16", "both"], default="both")
    ap.add_argument("--math", choices=["ieee", "tf32x3", "bf16x3"], default="ieee",
                    help="how jitfuse's f32 GEMM multiplies (ieee: FFMA; tf32x3, bf16x3: tensor "
                         "cores, three products)")
    ap.add_argument("--batch", type=int, default=2048)
    ap.add_argument("--in-features", type=int, default=8192)
    ap.add_argument("--out-features", type=int, default=8192)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-compile", action="store_true", help="do not time torch.compile")
    ap.add_argument("--out", help="write the results as JSON to this file")
    args = ap.parse_args()

    if torch is None:
        print("skipped: no torch")
        return 0
    if not torch.cuda.is_available():
        print("skipped: no CUDA device")
        return 0
    import jitfuse_torch

    # f32 means IEEE f32 for PyTorch too: no TF32 in its GEMMs.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    card = torch.cuda.get_device_name()
    print(f"{card}, driver {driver_version()}, torch {torch.__version__} (CUDA {torch.version.cuda}), "
          f"jitfuse {jitfuse_torch.load().version()}", flush=True)
    rows = []
    for name in ["f32", "bf16"] if args.dtype == "both" else [args.dtype]:
        try:
            rows.append(run_case(args, name))
        except Exception as e:  # noqa: BLE001: recorded as a failed check, and the JSON still written
            traceback.print_exc()
            rows.append({"dtype": name, "pass": False, "error": f"{type(e).__name__}: {e}"})
            print(f"{name}: FAIL ({type(e).__name__})", flush=True)
    ok = all(r["pass"] for r in rows)
    if args.out:
        doc = {"tool": "examples/pytorch/model_new.py",
               "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "card": card, "driver": driver_version(), "torch": torch.__version__,
               "cuda": torch.version.cuda, "jitfuse": jitfuse_torch.load().version(),
               "shapes": {"batch": args.batch, "in_features": args.in_features,
                          "out_features": args.out_features},
               "timing": {"method": "CUDA events, median", "warmup": args.warmup, "reps": args.reps},
               "results": rows, "pass": ok}
        Path(args.out).write_text(json.dumps(doc, indent=2) + "\n")
        print(f"wrote {args.out}")
    print("model_new: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
