# An experiment (session 6 of issue 4, run on the GPU machine with its PyTorch): f32 GEMM as
# three bf16 products, x = hi + lo (both bf16, round to nearest), C = lo_a*hi_b + hi_a*lo_b +
# hi_a*hi_b computed as ONE bf16 GEMM over K' = 3K (small terms first) with f32 accumulation
# in the tensor cores (cuBLAS here). Prints its accuracy against float64 (the example graph's
# epilogue too) and the timing of the split pre-pass (unfused, in PyTorch) and of the GEMM.
import torch, json, sys, math
torch.manual_seed(0)
M, N, K = 2048, 8192, 8192
dev = "cuda"
x = torch.randn(M, K, device=dev)
s = 1 / math.sqrt(K)
w = (torch.rand(N, K, device=dev) * 2 - 1) * s
b = (torch.rand(N, device=dev) * 2 - 1) * s
def split(t):
    hi = t.to(torch.bfloat16)
    lo = (t - hi.float()).to(torch.bfloat16)
    return hi, lo
def prep():
    ah, al = split(x); bh, bl = split(w)
    return torch.cat([al, ah, ah], 1), torch.cat([bh, bl, bh], 1)
def gemm(a3, b3):
    return torch.matmul(a3, b3.t(), out_dtype=torch.float32) if 'out_dtype' in torch.matmul.__doc__ else (a3.float() @ b3.float().t())
def epi(y): return torch.nn.functional.gelu(torch.clamp(0.5 * y, -2, 2))
res = {}
a3, b3 = prep()
try:
    y3 = torch.mm(a3, b3.t(), out_dtype=torch.float32)
    res["gemm"] = "torch.mm(bf16, out_dtype=f32)"
except TypeError:
    y3 = torch.mm(a3, b3.t()).float()
    res["gemm"] = "torch.mm(bf16) -> bf16 output (no out_dtype): accuracy not meaningful"
ref = (x.double() @ w.double().t()) + b.double()
out = epi(y3 + b)
oref = epi(ref)
err = (out.double() - oref).abs()
res["max_abs_err_epilogue"] = err.max().item()
res["fails_1e-4"] = int((err > 1e-4 + 1e-4 * oref.abs()).sum().item())
res["gemm_rel_norm_err"] = ((y3.double() + b.double() - ref).norm() / ref.norm()).item()
# tf32 and f32 for comparison
torch.backends.cuda.matmul.allow_tf32 = True
yt = x @ w.t()
res["tf32_rel_norm_err"] = ((yt.double() + b.double() - ref).norm() / ref.norm()).item()
res["tf32_max_abs_err_epilogue"] = (epi(yt + b).double() - oref).abs().max().item()
def timeit(f, n=20):
    for _ in range(3): f()
    torch.cuda.synchronize()
    st = [torch.cuda.Event(enable_timing=True) for _ in range(n + 1)]
    ts = []
    for i in range(n):
        st[i].record(); f(); st[i + 1].record()
    torch.cuda.synchronize()
    ts = sorted(st[i].elapsed_time(st[i + 1]) * 1000 for i in range(n))
    return ts[n // 2]
res["prep_us"] = timeit(prep)
try:
    res["gemm3k_us"] = timeit(lambda: torch.mm(a3, b3.t(), out_dtype=torch.float32))
except TypeError:
    res["gemm3k_us"] = timeit(lambda: torch.mm(a3, b3.t()))
res["gemm_bf16_k_us"] = timeit(lambda: torch.mm(a3[:, :K], b3[:, :K].t()))
res["card"] = torch.cuda.get_device_name()
res["torch"] = torch.__version__
print(json.dumps(res, indent=1))
