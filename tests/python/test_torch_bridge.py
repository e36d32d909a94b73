#!/usr/bin/env python3
"""The PyTorch bridge (python/jitfuse_torch) against PyTorch.

Results against a float64 PyTorch reference at small odd shapes and at the example's shape, a
graph of two outputs, PyTorch's current stream (a side stream, a CUDA graph capture), and the
errors for bad arguments. Prints "skipped: no torch" without PyTorch; without a CUDA device it
runs only the checks that need none (the extension's build, graph and argument errors) and
prints "skipped: no CUDA device". Ends with "N passed, N failed"; exits 1 on a failure.

    python3 tests/python/test_torch_bridge.py          (CTest: pytorch_bridge)
"""
import json
import sys
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))

CHAIN = [
    {"name": "y", "op": "gemm", "inputs": ["x", "w", "bias"], "b_layout": "nk"},
    {"name": "s", "op": "scale", "inputs": ["y"], "factor": 0.5},
    {"name": "h", "op": "hardtanh", "inputs": ["s"], "min": -2.0, "max": 2.0},
    {"name": "out", "op": "gelu", "inputs": ["h"], "approximate": "none"},
]
TOLERANCE = {"f32": 1e-4, "f16": 1e-2, "bf16": 1e-2}


def linear_graph(dtype="f32", name="bridge_linear"):
    """Linear -> *0.5 -> Hardtanh(-2, 2) -> GELU with every dimension symbolic."""
    return {"name": name,
            "inputs": {"x": {"dtype": dtype, "shape": ["M", "K"]},
                       "w": {"dtype": dtype, "shape": ["N", "K"]},
                       "bias": {"dtype": dtype, "shape": ["N"]}},
            "nodes": CHAIN, "outputs": ["out"]}


def example_graph(dtype, k, n):
    """examples/linear_scale_hardtanh_gelu[_bf16].json with K and N set."""
    suffix = "_bf16" if dtype == "bf16" else ""
    g = json.loads((REPO / f"examples/linear_scale_hardtanh_gelu{suffix}.json").read_text())
    g["inputs"]["x"]["shape"] = ["M", k]
    g["inputs"]["w"]["shape"] = [n, k]
    g["inputs"]["bias"]["shape"] = [n]
    return g


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def run(self, name, fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001: every failure is reported, then the next check runs
            self.failed += 1
            print(f"FAIL: {name}: {type(e).__name__}: {e}", flush=True)
            traceback.print_exc(limit=4)
            return
        self.passed += 1
        print(f"ok: {name}", flush=True)


def expect_error(kind, fragments, fn, *args):
    """Calls fn(*args); it must raise `kind` with every fragment in its message."""
    try:
        fn(*args)
    except kind as e:
        missing = [f for f in fragments if f not in str(e)]
        if missing:
            raise AssertionError(f"{kind.__name__} lacks {missing}: {e}") from e
        return
    raise AssertionError(f"no {kind.__name__} raised (wanted one with {fragments})")


def main():
    try:
        import torch
    except ImportError:
        print("skipped: no torch")
        return 0
    import torch.nn.functional as F

    import jitfuse_torch

    dtypes = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
    checks = Checks()
    gpu = torch.cuda.is_available()
    device = "cuda" if gpu else "cpu"

    def inputs(m, k, n, dtype="f32", dev=device, seed=0):
        gen = torch.Generator().manual_seed(seed)
        bound = k ** -0.5  # as torch.nn.Linear initializes its weight and bias
        x = torch.rand(m, k, generator=gen) * 2 - 1
        w = (torch.rand(n, k, generator=gen) * 2 - 1) * bound
        b = (torch.rand(n, generator=gen) * 2 - 1) * bound
        return [t.to(dtypes[dtype]).to(dev) for t in (x, w, b)]

    def reference(x, w, b):
        y = F.linear(x.double(), w.double(), b.double())
        return F.gelu(F.hardtanh(y * 0.5, -2.0, 2.0))

    def assert_close(got, want, tol, what):
        got = got.double().to(want.device)
        err = (got - want).abs()
        bad = err > tol + tol * want.abs()
        if got.shape != want.shape or bool(bad.any()) or bool(got.isnan().any()):
            raise AssertionError(f"{what}: shape {tuple(got.shape)} vs {tuple(want.shape)}, max abs "
                                 f"err {err.max().item():.3g}, {int(bad.sum())} of {got.numel()} "
                                 f"outside atol=rtol={tol}")

    # --- checks that need no GPU: the build, graph errors and argument errors -------------------
    def build():
        ext = jitfuse_torch.load()
        print(f"  extension built against libjitfuse {ext.version()}")

    checks.run("the extension builds and loads", build)

    def signature():
        fn = jitfuse_torch.compile(REPO / "examples/linear_scale_hardtanh_gelu.json")
        assert fn.input_names == ["x", "w", "bias"], fn.input_names
        assert fn.output_names == ["out"], fn.output_names
        assert fn.symbols == ["M"], fn.symbols
        assert fn.dtype == "torch.float32", fn.dtype
        assert "linear_scale_hardtanh_gelu" in repr(fn), repr(fn)

    checks.run("compile(path): inputs in the JSON's order, outputs, symbols", signature)

    def graph_errors():
        bad = linear_graph()
        bad["nodes"] = [dict(n) for n in CHAIN]
        bad["nodes"][2]["min"] = 3.0
        expect_error(ValueError, ["bad_attribute", "/nodes/2/min"], jitfuse_torch.compile, bad)
        expect_error(ValueError, ["json_syntax"], jitfuse_torch.compile, '{"name": ')
        expect_error(ValueError, ["math must be", "fast"], jitfuse_torch.compile, linear_graph(),
                     None, "fast")
        expect_error(ValueError, ["bad_option", "'Q'"], jitfuse_torch.compile, linear_graph(),
                     {"Q": 4})
        expect_error(FileNotFoundError, ["no_such.json"], jitfuse_torch.compile, "no_such.json")

    checks.run("graph and option errors", graph_errors)

    def argument_errors():
        fn = jitfuse_torch.compile(linear_graph())
        x, w, b = inputs(7, 40, 24)
        expect_error(TypeError, ["takes 3 input tensors (x, w, bias), got 2"], fn, x, w)
        expect_error(TypeError, ["input 'x' (argument 0)", "got float"], fn, 1.5, w, b)
        expect_error(TypeError, ["input 'x' (argument 0): expected a contiguous CUDA tensor of "
                                 "dtype torch.float32, got torch.bfloat16"], fn, x.bfloat16(), w, b)
        if not gpu:
            expect_error(ValueError, ["input 'x' (argument 0)", "got a tensor on cpu"], fn, x, w, b)
            return
        expect_error(ValueError, ["input 'w' (argument 1)", "got a tensor on cpu"], fn, x, w.cpu(), b)
        xt = torch.empty(40, 7, device="cuda").t()
        expect_error(ValueError, ["input 'x' (argument 0)", "non-contiguous", ".contiguous()"],
                     fn, xt, w, b)
        expect_error(ValueError, ["input 'x' (argument 0)", "expected shape [M, K], got [7, 40, 1]"],
                     fn, x.unsqueeze(-1), w, b)
        expect_error(ValueError, ["input 'w' (argument 1)", "got [24, 41]",
                                  "input 'x' (argument 0) set K=40"], fn, x, inputs(7, 41, 24)[1], b)
        expect_error(ValueError, ["input 'bias' (argument 2)", "set N=24"], fn, x, w,
                     b[:20].contiguous())
        fixed = jitfuse_torch.compile(example_graph("f32", 256, 512))
        expect_error(ValueError, ["input 'x' (argument 0): expected shape [M, 256], got [7, 40]"],
                     fixed, x, w, b)

    checks.run("argument errors name the argument", argument_errors)

    if not gpu:
        print("skipped: no CUDA device (ran the checks that need none)")
        print(f"{checks.passed} passed, {checks.failed} failed")
        return 1 if checks.failed else 0

    # --- results against PyTorch ---------------------------------------------------------------
    def linear_case(dtype, m, k, n, graph=None, math=None):
        def check():
            fn = jitfuse_torch.compile(graph or linear_graph(dtype), math=math)
            x, w, b = inputs(m, k, n, dtype, seed=m + k + n)
            out = fn(x, w, b)
            assert out.dtype == dtypes[dtype] and out.is_cuda and out.is_contiguous(), out
            assert not out.requires_grad
            assert_close(out, reference(x, w, b), TOLERANCE[dtype], f"{dtype} {m}x{k}x{n}")
        return check

    for dtype in ("f32", "bf16", "f16"):
        checks.run(f"{dtype} M=7 K=40 N=24, every dim symbolic", linear_case(dtype, 7, 40, 24))
    checks.run("f32 tf32x3 M=7 K=40 N=24", linear_case("f32", 7, 40, 24, math="tf32x3"))
    for dtype in ("f32", "bf16"):
        checks.run(f"the example file ({dtype}) at M=128 K=256 N=512",
                   linear_case(dtype, 128, 256, 512, example_graph(dtype, 256, 512)))
    checks.run("the example file (f32, tf32x3) at M=128 K=256 N=512",
               linear_case("f32", 128, 256, 512, example_graph("f32", 256, 512), "tf32x3"))

    def two_outputs():
        g = {"name": "bridge_two",
             "inputs": {"x": {"dtype": "f32", "shape": ["M", 40]},
                        "w": {"dtype": "f32", "shape": [24, 40]},
                        "bias": {"dtype": "f32", "shape": [24]},
                        "r": {"dtype": "f32", "shape": ["M", 24]}},
             "nodes": [{"name": "y", "op": "gemm", "inputs": ["x", "w", "bias"]},
                       {"name": "a", "op": "add", "inputs": ["y", "r"]},
                       {"name": "s", "op": "sigmoid", "inputs": ["y"]}],
             "outputs": ["s", "a"]}
        fn = jitfuse_torch.compile(json.dumps(g))
        assert fn.input_names == ["x", "w", "bias", "r"], fn.input_names
        assert fn.output_names == ["s", "a"], fn.output_names
        x, w, b = inputs(9, 40, 24)
        r = torch.randn(9, 24, device="cuda")
        got = fn(x, w, b, r)
        assert isinstance(got, tuple) and len(got) == 2, type(got)
        y = F.linear(x.double(), w.double(), b.double())
        assert_close(got[0], torch.sigmoid(y), 1e-4, "s")
        assert_close(got[1], y + r.double(), 1e-4, "a")

    checks.run("a graph of two outputs returns a tuple", two_outputs)

    def specializations():
        fn = jitfuse_torch.compile(linear_graph())
        for m in (7, 9, 7):
            x, w, b = inputs(m, 40, 24, seed=m)
            assert_close(fn(x, w, b), reference(x, w, b), 1e-4, f"M={m}")
        dims = sorted(tuple(sorted(s["dims"].items())) for s in fn.specializations)
        assert dims == [(("K", 40), ("M", 7), ("N", 24)), (("K", 40), ("M", 9), ("N", 24))], dims
        baked = jitfuse_torch.compile(linear_graph(), dims={"M": 7})
        x, w, b = inputs(7, 40, 24)
        assert_close(baked(x, w, b), reference(x, w, b), 1e-4, "baked M=7")
        expect_error(ValueError, ["expected shape [7, K], got [9, 40]", "baked in"], baked,
                     *inputs(9, 40, 24))

    checks.run("one kernel per distinct dims; dims baked by compile()", specializations)

    def nn_linear_parameters():
        torch.manual_seed(0)
        lin = torch.nn.Linear(40, 24, device="cuda")
        fn = jitfuse_torch.compile(linear_graph())
        x = torch.randn(7, 40, device="cuda")
        assert_close(fn(x, lin.weight, lin.bias), reference(x, lin.weight.detach(), lin.bias.detach()),
                     1e-4, "nn.Linear parameters")

    checks.run("nn.Linear's parameters (requires_grad) as inputs", nn_linear_parameters)

    def side_stream():
        fn = jitfuse_torch.compile(linear_graph())
        x, w, b = inputs(33, 40, 24, seed=5)
        want = reference(x, w, b)
        fn(x, w, b)  # compile before timing anything
        torch.cuda.synchronize()
        side = torch.cuda.Stream()
        torch.cuda._sleep(1_000_000_000)  # keeps the default stream busy for a good while
        with torch.cuda.stream(side):
            out = fn(x, w, b)
            host = out.to("cpu")  # a copy on `side`, then a wait for `side` alone
        still_sleeping = not torch.cuda.default_stream().query()
        torch.cuda.synchronize()
        assert_close(host, want.cpu(), 1e-4, "read after syncing only the side stream")
        if not still_sleeping:
            print("  note: the default stream finished early; the side-stream check was weak")

    checks.run("runs on PyTorch's current stream (a side stream, synced alone)", side_stream)

    def graph_capture():
        fn = jitfuse_torch.compile(linear_graph())
        x, w, b = inputs(7, 40, 24, seed=11)
        fn(x, w, b)  # compiles and loads outside the capture
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):  # a launch on any other stream breaks the capture
            out = fn(x, w, b)
        x.copy_(inputs(7, 40, 24, seed=12)[0])
        graph.replay()
        torch.cuda.synchronize()
        assert_close(out, reference(x, w, b), 1e-4, "replayed CUDA graph")

    checks.run("captures into a CUDA graph and replays", graph_capture)

    if torch.cuda.device_count() > 1:
        def second_device():
            fn = jitfuse_torch.compile(linear_graph())
            x, w, b = inputs(7, 40, 24, dev="cuda:1")
            out = fn(x, w, b)
            assert out.device == torch.device("cuda:1"), out.device
            assert_close(out, reference(x, w, b), 1e-4, "cuda:1")
            expect_error(ValueError, ["input 'w' (argument 1) is on cuda:0", "one device"], fn,
                         x, w.to("cuda:0"), b)

        checks.run("a second device, and inputs on two devices", second_device)
    else:
        print("skipped: the multi-device check (one CUDA device)")

    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
