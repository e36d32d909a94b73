"""jitfuse graphs as PyTorch callables.

    import jitfuse_torch
    fn = jitfuse_torch.compile("examples/linear_scale_hardtanh_gelu.json")
    out = fn(x, linear.weight, linear.bias)   # inputs in the order the graph's "inputs" lists them

The callable checks its tensors (CUDA, one device, the graph's dtype, contiguous, shapes that fit
the graph), binds the graph's symbolic dims from their shapes, compiles one kernel per distinct
set of dims (jitfuse's own caches make repeats cheap), allocates the outputs and launches on
PyTorch's current stream. It is forward only: outputs do not require grad.

The C++ half (shim.cpp) is built on first use with torch.utils.cpp_extension.load_inline and
linked against libjitfuse.a, found through
  JITFUSE_PREFIX      an install prefix (cmake --install build --prefix P): P/include, P/lib;
  JITFUSE_BUILD_DIR   a build tree: libjitfuse.a in it (or in its lib/), headers from include/
                      of the repository this package sits in;
  otherwise           the repository's build/.
JITFUSE_FMT_LIB names the libfmt to link when the one libjitfuse.a was built against is not
beside it or on the system's library path. The build goes to $JITFUSE_TORCH_BUILD_DIR (default
<tmp>/jitfuse_torch-<uid>); JITFUSE_TORCH_VERBOSE=1 prints the compiler's commands and output.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

__all__ = ["compile", "load", "find_jitfuse", "BuildError"]

_REPO = Path(__file__).resolve().parents[2]
_SHIM = Path(__file__).resolve().with_name("shim.cpp")
_lock = threading.Lock()
_ext = None
_failure = None  # a build that failed is not retried in the same process


class BuildError(RuntimeError):
    """jitfuse could not be found, or the extension could not be built or loaded."""


def _first_file(*candidates):
    return next((Path(c).resolve() for c in candidates if Path(c).is_file()), None)


def _source_dir_of(build_dir):
    """The source tree a CMake build directory was configured from, if it says."""
    cache = Path(build_dir) / "CMakeCache.txt"
    if cache.is_file():
        m = re.search(r"^jitfuse_SOURCE_DIR:STATIC=(.*)$", cache.read_text(errors="replace"), re.M)
        if m:
            return Path(m.group(1))
    return None


def _library_dirs():
    """Directories the dynamic linker searches: LD_LIBRARY_PATH, ldconfig's cache, the usual."""
    dirs = [Path(p) for p in os.environ.get("LD_LIBRARY_PATH", "").split(":") if p]
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    try:
        listing = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, timeout=20).stdout
        dirs += [Path(m).parent for m in re.findall(r"=> (\S+)", listing)]
    except (OSError, subprocess.SubprocessError):
        pass
    dirs += [Path(p) for p in ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64",
                               "/usr/lib", "/usr/local/lib")]
    return list(dict.fromkeys(dirs))


def _fmt_library(archive):
    """The libfmt shared library libjitfuse.a needs, or None if it needs none.

    The archive's symbols name fmt's versioned namespace (fmt::v9:: is mangled "3fmt2v9"), and
    only a libfmt.so of that major version provides them."""
    if os.environ.get("JITFUSE_FMT_LIB"):
        lib = Path(os.environ["JITFUSE_FMT_LIB"]).resolve()
        if not lib.is_file():
            raise BuildError(f"JITFUSE_FMT_LIB={lib} is not a file")
        return lib
    data = archive.read_bytes()
    if b"3fmt" not in data:
        return None
    # A mangled name gives each component's length: "2v9" is v9, "3v10" is v10.
    majors = sorted({a or b for a, b in re.findall(rb"3fmt(?:2v(\d)|3v(\d\d))", data)})
    names = [f"libfmt.so.{m.decode()}" for m in majors] or ["libfmt.so"]
    dirs = [archive.parent, archive.parent / "lib"] + _library_dirs()
    for d in dirs:
        for name in names:
            if (d / name).is_file():
                return d / name
    raise BuildError(
        f"{archive} needs {' or '.join(names)} (the fmt library it was built against), which is "
        f"neither beside it nor on the library path ({', '.join(str(d) for d in dirs[:6])}, ...). "
        f"Install it, copy it next to libjitfuse.a, or set JITFUSE_FMT_LIB=/path/to/{names[0]}.")


def _nvrtc_library():
    """libnvrtc to link: the CUDA toolkit's, else one on the library path, else a pip wheel's."""
    from torch.utils import cpp_extension

    roots = [Path(cpp_extension.CUDA_HOME)] if cpp_extension.CUDA_HOME else []
    dirs = [r / sub for r in roots for sub in ("lib64", "lib", "targets/x86_64-linux/lib")]
    dirs += _library_dirs()
    dirs += [p.parent for sp in sys.path if sp for p in Path(sp).glob("nvidia/*/lib/libnvrtc.so*")]
    for d in dirs:
        found = sorted(d.glob("libnvrtc.so*")) if d.is_dir() else []
        found = [f for f in found if re.fullmatch(r"libnvrtc\.so(\.\d+)*", f.name)]
        if found:
            return found[0].resolve()
    raise BuildError("cannot find libnvrtc.so (NVRTC, which libjitfuse.a calls): looked in "
                     f"{', '.join(str(d) for d in dirs[:5])}, ...; set CUDA_HOME to the CUDA toolkit")


def find_jitfuse():
    """Where jitfuse's headers and libraries are: a dict of include, library, fmt, nvrtc, origin.

    Raises BuildError naming what it looked for when jitfuse is not there."""
    if os.environ.get("JITFUSE_PREFIX"):
        prefix = Path(os.environ["JITFUSE_PREFIX"]).resolve()
        origin = f"JITFUSE_PREFIX={prefix}"
        include = prefix / "include"
        library = _first_file(prefix / "lib" / "libjitfuse.a", prefix / "lib64" / "libjitfuse.a")
        looked = [prefix / "include/jitfuse/jitfuse.hpp", prefix / "lib/libjitfuse.a"]
    else:
        build = Path(os.environ.get("JITFUSE_BUILD_DIR") or _REPO / "build").resolve()
        origin = (f"JITFUSE_BUILD_DIR={build}" if os.environ.get("JITFUSE_BUILD_DIR")
                  else f"the repository's build directory {build} (neither JITFUSE_PREFIX nor "
                       "JITFUSE_BUILD_DIR is set)")
        include = _REPO / "include"
        if not (include / "jitfuse/jitfuse.hpp").is_file() and _source_dir_of(build):
            include = _source_dir_of(build) / "include"
        library = _first_file(build / "libjitfuse.a", build / "lib" / "libjitfuse.a")
        looked = [include / "jitfuse/jitfuse.hpp", build / "libjitfuse.a", build / "lib/libjitfuse.a"]
    if library is None or not (include / "jitfuse/jitfuse.hpp").is_file():
        raise BuildError(
            f"jitfuse_torch cannot find jitfuse through {origin}: looked for "
            f"{', '.join(str(p) for p in looked)}. Build it (cmake -S . -B build -G Ninja && "
            "cmake --build build), then set JITFUSE_BUILD_DIR to the build directory, or "
            "JITFUSE_PREFIX to an install prefix (cmake --install build --prefix PREFIX).")
    if not (include / "jitfuse/signature.hpp").is_file():
        raise BuildError(f"{include}/jitfuse has no signature.hpp: this jitfuse is older than the "
                         "PyTorch bridge; rebuild or reinstall it")
    return {"include": include, "library": library, "fmt": _fmt_library(library),
            "nvrtc": _nvrtc_library(), "origin": origin}


def _build_root():
    root = os.environ.get("JITFUSE_TORCH_BUILD_DIR")
    if root:
        return Path(root)
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"jitfuse_torch-{uid}"


def _describe(where, build_dir):
    import torch
    from torch.utils import cpp_extension

    lines = [f"  jitfuse from: {where['origin']}", f"  headers:      {where['include']}",
             f"  library:      {where['library']}", f"  fmt:          {where['fmt']}",
             f"  nvrtc:        {where['nvrtc']}", f"  build dir:    {build_dir}",
             f"  torch:        {torch.__version__} (CUDA {torch.version.cuda}), "
             f"CUDA_HOME={cpp_extension.CUDA_HOME}",
             f"  compiler:     {os.environ.get('CXX', 'c++')}"]
    return "\n".join(lines)


def load(verbose=None):
    """Builds (once per content: the shim, the headers, the library) and imports the extension."""
    global _ext, _failure
    with _lock:
        if _failure is not None:
            raise _failure
        if _ext is None:
            if verbose is None:
                verbose = os.environ.get("JITFUSE_TORCH_VERBOSE", "0") not in ("", "0")
            try:
                _ext = _build(verbose)
            except BuildError as e:
                _failure = e
                raise
        return _ext


def _process_libstdcxx():
    """The libstdc++ shared library this process (PyTorch) runs on, or None."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                if "/libstdc++.so" in path:
                    return path
    except OSError:
        pass
    return None


def _build(verbose):
    import torch
    from torch.utils import cpp_extension

    if not getattr(torch._C, "_GLIBCXX_USE_CXX11_ABI", True):
        raise BuildError("this PyTorch was built with the old (pre-C++11) std::string ABI, and "
                         "libjitfuse.a with the C++11 one; the two cannot be linked together")
    where = find_jitfuse()
    source = _SHIM.read_text()
    digest = hashlib.sha256()
    for part in (source, torch.__version__, str(where["fmt"]), str(where["nvrtc"]),
                 str(_process_libstdcxx())):
        digest.update(part.encode())
    for path in [where["library"], *sorted((where["include"] / "jitfuse").glob("*.hpp"))]:
        digest.update(path.read_bytes())
    name = "jitfuse_torch_" + digest.hexdigest()[:16]
    build_dir = _build_root() / name
    build_dir.mkdir(parents=True, exist_ok=True)
    ldflags = [str(where["library"])]
    for lib in (where["fmt"], where["nvrtc"]):
        if lib is not None:
            ldflags += [str(lib), f"-Wl,-rpath,{lib.parent}"]
    ldflags += ["-ldl", "-lpthread"]
    # Link the libstdc++ PyTorch runs on, ahead of the compiler's own: a compiler that links
    # libstdc++ statically (as the GPU machine's /opt/gcc does) would otherwise put a second copy
    # in the extension, whose iostreams were never initialized (a crash in the first << of a
    # number). The hash covers it: another libstdc++ is another build.
    libstdcxx = _process_libstdcxx()
    if libstdcxx:
        ldflags = [libstdcxx] + ldflags
    if verbose:
        print(f"jitfuse_torch: building {name}\n{_describe(where, build_dir)}", flush=True)
    try:
        return cpp_extension.load_inline(
            name=name, cpp_sources=[source], extra_cflags=["-O2", "-std=c++20"],
            extra_include_paths=[str(where["include"])], extra_ldflags=ldflags, with_cuda=False,
            build_directory=str(build_dir), verbose=verbose)
    except Exception as e:  # the compiler's or the loader's output is in the message
        hint = ""
        if "undefined symbol" in str(e) and "fmt" in str(e):
            hint = "\n  hint: the libfmt above is not the version libjitfuse.a was built against"
        raise BuildError(f"jitfuse_torch: building or loading the extension failed\n"
                         f"{_describe(where, build_dir)}{hint}\n{type(e).__name__}: {e}") from e


def _graph_text(graph):
    """(JSON text, source name) of a graph given as a dict, JSON text or a file path."""
    if isinstance(graph, dict):
        return json.dumps(graph), "<dict>"
    if isinstance(graph, str) and graph.lstrip().startswith("{"):
        return graph, "<string>"
    if isinstance(graph, (str, os.PathLike)):
        path = Path(graph)
        if not path.is_file():
            raise FileNotFoundError(f"graph file not found: {path}")
        return path.read_text(), str(path)
    raise TypeError(f"graph must be a dict, JSON text or a file path, got {type(graph).__name__}")


def compile(graph, dims=None, math=None, arch=None):  # noqa: A001 (as torch.compile)
    """Compiles a jitfuse graph into a callable: fn(*inputs) -> output, or a tuple of outputs.

    graph: a dict, JSON text, or the path of a .json file (docs/graph-format.md).
    dims:  {"M": 2048, ...}: symbols to bake in now; the rest are bound from each call's inputs
           (and baked into a kernel compiled per distinct set of values).
    math:  "auto" (default: bf16x3, or tf32x3 for small problems, where the sm_90a wgmma kernel
           runs them, else ieee), "ieee",
           "tf32x3", "bf16x3" or "tf32": how f32 GEMMs multiply.
    arch:  e.g. "sm_90a"; default: the GPU the inputs are on.

    Inputs are positional, in the order the graph's "inputs" object lists them (fn.input_names).
    Raises ValueError for a graph or option jitfuse rejects (the message has its code and JSON
    pointer), BuildError when the extension cannot be built."""
    text, source = _graph_text(graph)
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None  # jitfuse's parser reports it, with the line and column
    order = []
    if isinstance(doc, dict) and isinstance(doc.get("inputs"), dict):
        order = list(doc["inputs"])
    dims = {str(k): int(v) for k, v in (dims or {}).items()}
    return load().compile(text, source, order, dims, math or "auto", arch or "")
