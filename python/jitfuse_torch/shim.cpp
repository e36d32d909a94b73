// The C++ half of jitfuse_torch: compile(graph) gives a callable that takes the graph's inputs
// as CUDA tensors, allocates its outputs and launches the fused kernel on PyTorch's current
// stream. __init__.py builds this file with torch.utils.cpp_extension.load_inline and links it
// against libjitfuse.a; it uses only jitfuse's public headers, and PyTorch's device-generic
// ones, so that it builds without the CUDA toolkit's headers.
#include <torch/extension.h>

#include <c10/core/DeviceGuard.h>

#include <cstdint>
#include <csignal>
#include <cstdlib>
#include <execinfo.h>
#include <unistd.h>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "jitfuse/jitfuse.hpp"
#include "jitfuse/signature.hpp"

namespace py = pybind11;

namespace {

// One Engine per device ordinal, since an Engine loads kernels on one device. They are never
// destroyed: no driver call should run during static destruction at exit.
jitfuse::Engine& engine_for(int device) {
  static std::mutex mu;
  static std::map<int, jitfuse::Engine*> engines;
  std::lock_guard lock(mu);
  jitfuse::Engine*& e = engines[device];
  if (!e) {
    jitfuse::EngineOptions options;
    options.device = device;
    e = new jitfuse::Engine(options);
  }
  return *e;
}

// Raises a jitfuse Error as ValueError (the caller's input is wrong) or RuntimeError.
[[noreturn]] void raise(const jitfuse::Error& e) {
  const bool detailed = e.code == jitfuse::ErrorCode::compile;  // with the NVRTC log
  std::string message =
      "jitfuse (" + std::string(jitfuse::to_string(e.code)) + "): " + e.to_string(detailed);
  if (jitfuse::is_user_error(e.code)) throw py::value_error(message);
  throw std::runtime_error(message);
}

at::ScalarType torch_dtype(jitfuse::DType d) {
  switch (d) {
    case jitfuse::DType::f32: return at::kFloat;
    case jitfuse::DType::f16: return at::kHalf;
    case jitfuse::DType::bf16: return at::kBFloat16;
  }
  return at::kFloat;
}

std::string torch_dtype_name(jitfuse::DType d) {
  switch (d) {
    case jitfuse::DType::f32: return "torch.float32";
    case jitfuse::DType::f16: return "torch.float16";
    case jitfuse::DType::bf16: return "torch.bfloat16";
  }
  return "?";
}

template <class Ints>
std::string ints_text(const Ints& v) {
  std::ostringstream s;
  s << "[";
  for (std::size_t i = 0; i < std::size_t(v.size()); ++i) s << (i ? ", " : "") << v[i];
  s << "]";
  return s.str();
}

std::string decl_text(const jitfuse::TensorDecl& d) {
  return d.name + " " + jitfuse::to_string(d.shape);
}

// A compiled graph as a Python callable: f(*inputs) -> output or tuple of outputs.
class Function {
 public:
  Function(jitfuse::Graph graph, jitfuse::Signature sig, std::vector<std::size_t> order,
           jitfuse::CompileOptions options)
      : graph_(std::move(graph)),
        sig_(std::move(sig)),
        order_(std::move(order)),
        options_(std::move(options)) {}

  py::object call(const py::args& args);
  std::vector<std::string> input_names() const;
  std::vector<std::string> output_names() const;
  std::vector<std::string> symbols() const { return sig_.symbols; }
  std::string dtype() const { return torch_dtype_name(sig_.dtype); }
  py::list specializations() const;
  std::string repr() const;

 private:
  // The symbols' values bound from the arguments, checking each argument on the way.
  struct Bound {
    std::vector<at::Tensor> tensors;  // in argument order
    std::map<std::string, std::int64_t> dims;
    at::Device device{at::kCUDA, 0};
  };
  Bound check(const py::args& args) const;
  // The kernel for this device and these symbol values: compiled on first use, then kept.
  std::shared_ptr<const jitfuse::Kernel> kernel_for(
      int device, const std::map<std::string, std::int64_t>& dims);

  jitfuse::Graph graph_;
  jitfuse::Signature sig_;
  std::vector<std::size_t> order_;   // argument i is sig_.inputs[order_[i]]
  jitfuse::CompileOptions options_;  // with the caller's baked dims only
  mutable std::mutex mu_;            // guards kernels_
  std::map<std::pair<int, std::vector<std::int64_t>>, std::shared_ptr<const jitfuse::Kernel>>
      kernels_;
};

std::vector<std::string> Function::input_names() const {
  std::vector<std::string> names;
  for (std::size_t i : order_) names.push_back(sig_.inputs[i].name);
  return names;
}

std::vector<std::string> Function::output_names() const {
  std::vector<std::string> names;
  for (const auto& o : sig_.outputs) names.push_back(o.name);
  return names;
}

std::string Function::repr() const {
  std::string in, out;
  for (std::size_t i : order_) in += (in.empty() ? "" : ", ") + decl_text(sig_.inputs[i]);
  for (const auto& o : sig_.outputs) out += (out.empty() ? "" : ", ") + decl_text(o);
  return "<jitfuse_torch.Function '" + sig_.graph_name + "' (" + in + ") -> (" + out + "), " +
         dtype() + ", math " + std::string(jitfuse::to_string(options_.math)) + ">";
}

Function::Bound Function::check(const py::args& args) const {
  if (args.size() != order_.size()) {
    std::string names;
    for (const auto& n : input_names()) names += (names.empty() ? "" : ", ") + n;
    throw py::type_error("graph '" + sig_.graph_name + "' takes " + std::to_string(order_.size()) +
                         " input tensors (" + names + "), got " + std::to_string(args.size()));
  }
  Bound b;
  std::map<std::string, std::size_t> bound_by;  // symbol -> the argument that bound it
  const std::string expected = "expected a contiguous CUDA tensor of dtype " + dtype();
  const std::string baked =
      options_.dims.empty() ? "" : " (some dims were baked in by compile(dims=...))";
  for (std::size_t i = 0; i < args.size(); ++i) {
    const jitfuse::TensorDecl& d = sig_.inputs[order_[i]];
    const std::string who = "input '" + d.name + "' (argument " + std::to_string(i) + ")";
    PyObject* obj = args[i].ptr();
    if (!THPVariable_Check(obj)) {
      throw py::type_error(who + ": " + expected + ", got " + Py_TYPE(obj)->tp_name);
    }
    const at::Tensor& t = THPVariable_Unpack(obj);
    if (t.scalar_type() != torch_dtype(sig_.dtype)) {
      throw py::type_error(who + ": " + expected + ", got " +
                           std::string(py::str(args[i].attr("dtype"))));
    }
    if (!t.is_cuda()) {
      throw py::value_error(who + ": " + expected + ", got a tensor on " + t.device().str());
    }
    if (!t.is_contiguous()) {
      throw py::value_error(who + ": " + expected + ", got a non-contiguous tensor (shape " +
                            ints_text(t.sizes()) + ", strides " + ints_text(t.strides()) +
                            "); pass .contiguous()");
    }
    if (i == 0) b.device = t.device();
    if (t.device() != b.device) {
      throw py::value_error(who + " is on " + t.device().str() + ", but input '" +
                            sig_.inputs[order_[0]].name + "' (argument 0) is on " + b.device.str() +
                            "; all inputs must be on one device");
    }
    const std::string shape_error =
        who + ": expected shape " + jitfuse::to_string(d.shape) + ", got " + ints_text(t.sizes());
    if (std::size_t(t.dim()) != d.shape.size()) throw py::value_error(shape_error + baked);
    for (std::size_t j = 0; j < d.shape.size(); ++j) {
      const jitfuse::Dim& dim = d.shape[j];
      const std::int64_t size = t.size(std::int64_t(j));
      if (!dim.is_symbolic()) {
        if (size != dim.size) throw py::value_error(shape_error + baked);
        continue;
      }
      if (size < 1) {
        throw py::value_error(shape_error + ": " + dim.symbol + "=" + std::to_string(size) +
                              ", but jitfuse kernels need every dimension >= 1");
      }
      auto [it, fresh] = b.dims.emplace(dim.symbol, size);
      if (!fresh && it->second != size) {
        const std::size_t k = bound_by.at(dim.symbol);
        throw py::value_error(shape_error + ", but input '" + sig_.inputs[order_[k]].name +
                              "' (argument " + std::to_string(k) + ") set " + dim.symbol + "=" +
                              std::to_string(it->second));
      }
      bound_by.emplace(dim.symbol, i);
    }
    b.tensors.push_back(t);
  }
  return b;
}

std::shared_ptr<const jitfuse::Kernel> Function::kernel_for(
    int device, const std::map<std::string, std::int64_t>& dims) {
  std::pair<int, std::vector<std::int64_t>> key{device, {}};
  for (const auto& s : sig_.symbols) key.second.push_back(dims.at(s));
  {
    std::lock_guard lock(mu_);
    if (auto it = kernels_.find(key); it != kernels_.end()) return it->second;
  }
  // Every symbol is baked in, as `jitfuse run --dims` does: sizes become constants.
  jitfuse::CompileOptions options = options_;
  options.dims.insert(dims.begin(), dims.end());
  auto compiled = [&] {
    py::gil_scoped_release nogil;  // NVRTC may take seconds; other Python threads may run
    return engine_for(device).compile(graph_, options);
  }();
  if (!compiled) raise(compiled.error());
  auto kernel = std::make_shared<const jitfuse::Kernel>(std::move(*compiled));
  std::lock_guard lock(mu_);
  return kernels_.emplace(key, kernel).first->second;
}

py::object Function::call(const py::args& args) {
  Bound b = check(args);
  const c10::DeviceGuard guard(b.device);
  std::shared_ptr<const jitfuse::Kernel> kernel = kernel_for(b.device.index(), b.dims);

  jitfuse::TensorMap tensors;
  const jitfuse::DType dt = sig_.dtype;
  for (std::size_t i = 0; i < b.tensors.size(); ++i) {
    const at::Tensor& t = b.tensors[i];
    tensors[sig_.inputs[order_[i]].name] = {t.data_ptr(), t.sizes().vec(), dt};
  }
  const auto options = at::TensorOptions().dtype(torch_dtype(dt)).device(b.device);
  std::vector<at::Tensor> outputs;
  for (const auto& o : sig_.outputs) {
    auto shape = jitfuse::concrete_shape(o.shape, b.dims);
    if (!shape) raise(shape.error());
    outputs.push_back(at::empty(*shape, options));
    tensors[o.name] = {outputs.back().data_ptr(), *shape, dt};
  }
  // PyTorch's current stream on the tensors' device, as torch.cuda.current_stream() gives it:
  // its cuda_stream is the cudaStream_t (the same type as CUstream). Asked through Python so that
  // the extension needs no CUDA headers.
  // Leaked on purpose: a static py::object would be released after the interpreter is gone.
  static const py::object* current_stream =
      new py::object(py::module_::import("torch.cuda").attr("current_stream"));
  void* stream = reinterpret_cast<void*>(
      (*current_stream)(b.device.index()).attr("cuda_stream").cast<std::uintptr_t>());
  if (jitfuse::Status s = kernel->launch(tensors, static_cast<jitfuse::Stream>(stream)); !s.ok()) {
    raise(s.error());
  }
  if (outputs.size() == 1) return py::cast(outputs[0]);
  py::tuple result(outputs.size());
  for (std::size_t i = 0; i < outputs.size(); ++i) result[i] = py::cast(outputs[i]);
  return result;
}

py::list Function::specializations() const {
  py::list out;
  std::lock_guard lock(mu_);
  for (const auto& [key, kernel] : kernels_) {
    py::dict dims;
    for (std::size_t i = 0; i < sig_.symbols.size(); ++i)
      dims[py::str(sig_.symbols[i])] = key.second[i];
    py::list kernels;
    for (const auto& k : kernel->build().kernels) {
      py::dict d;
      d["name"] = k.name;
      d["cache"] = k.cache_status;  // "memory", "disk" or "compiled"
      d["compile_ms"] = k.compile_ms;
      kernels.append(d);
    }
    py::dict entry;
    entry["device"] = key.first;
    entry["dims"] = dims;
    entry["arch"] = kernel->build().arch;
    entry["kernels"] = kernels;
    out.append(entry);
  }
  return out;
}

// Parses and validates `text`; argument i of the result is the input named input_order[i].
std::unique_ptr<Function> compile(const std::string& text, const std::string& source,
                                  const std::vector<std::string>& input_order,
                                  const std::map<std::string, std::int64_t>& dims,
                                  const std::string& math, const std::string& arch) {
  auto graph = jitfuse::parse_graph(text, source);
  if (!graph) raise(graph.error());
  jitfuse::CompileOptions options;
  options.dims = dims;
  options.arch = arch;
  auto mode = jitfuse::parse_math_mode(math);
  if (!mode)
    throw py::value_error("math must be \"auto\", \"ieee\", \"tf32\", \"tf32x3\" or \"bf16x3\", got \"" + math + "\"");
  options.math = *mode;
  auto sig = jitfuse::signature(*graph, dims);
  if (!sig) raise(sig.error());
  std::vector<std::size_t> order;
  for (const std::string& name : input_order) {
    std::size_t i = 0;
    while (i < sig->inputs.size() && sig->inputs[i].name != name) ++i;
    if (i == sig->inputs.size())
      throw py::value_error("input order names '" + name + "', which is not an input of the graph");
    order.push_back(i);
  }
  if (input_order.empty()) {
    for (std::size_t i = 0; i < sig->inputs.size(); ++i) order.push_back(i);
  }
  if (order.size() != sig->inputs.size()) {
    throw py::value_error("input order lists " + std::to_string(order.size()) +
                          " names; the graph has " + std::to_string(sig->inputs.size()) +
                          " inputs");
  }
  return std::make_unique<Function>(std::move(*graph), std::move(*sig), std::move(order),
                                    std::move(options));
}

}  // namespace

// JITFUSE_TORCH_BACKTRACE=1: on SIGSEGV, print the native stack (a debugging aid for the GPU
// machine, which has no debugger).
static void print_backtrace_and_die(int sig) {
  void* frames[64];
  const int n = backtrace(frames, 64);
  const char msg[] = "jitfuse_torch: fatal signal; native backtrace:\n";
  (void)!write(2, msg, sizeof msg - 1);
  backtrace_symbols_fd(frames, n, 2);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  if (const char* env = std::getenv("JITFUSE_TORCH_BACKTRACE"); env && std::string(env) == "1") {
    std::signal(SIGSEGV, print_backtrace_and_die);
    std::signal(SIGABRT, print_backtrace_and_die);
  }
  m.doc() = "jitfuse graphs as PyTorch callables (the C++ half of jitfuse_torch)";
  m.def(
      "version", [] { return std::string(jitfuse::version()); }, "libjitfuse's version");
  m.def("compile", &compile, py::arg("text"), py::arg("source"), py::arg("input_order"),
        py::arg("dims"), py::arg("math"), py::arg("arch"),
        "Parses and validates a graph; returns a Function (see jitfuse_torch.compile)");
  py::class_<Function>(m, "Function")
      .def("__call__", &Function::call)
      .def("__repr__", &Function::repr)
      .def_property_readonly("input_names", &Function::input_names, "inputs in argument order")
      .def_property_readonly("output_names", &Function::output_names, "outputs in return order")
      .def_property_readonly("symbols", &Function::symbols,
                             "dims bound from the inputs at each call")
      .def_property_readonly("dtype", &Function::dtype, "the graph's dtype, e.g. 'torch.bfloat16'")
      .def_property_readonly(
          "specializations", &Function::specializations,
          "one entry per compiled (device, dims): its kernels and cache outcome");
}
