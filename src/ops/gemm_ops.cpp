// The gemm entry of the op table. Its device code is a template (templates/gemm_*.cu) and its
// reference is the reference executor's blocked GEMM; the table holds its interface.
#include "ops/op_table.h"

namespace jitfuse::ops {

std::vector<OpDef> gemm_ops() {
  std::vector<OpDef> t;
  t.push_back(OpDef{
      .name = "gemm",
      .kind = OpKind::gemm,
      .min_inputs = 2,
      .max_inputs = 3,
      .attrs = {{.name = "b_layout",
                 .choices = {"nk", "kn"},
                 .default_choice = "nk",
                 .doc = "\"nk\": B is [N,K] like torch.nn.Linear.weight; \"kn\": B is [K,N]"}},
      .doc = "A[M,K] x B (+ bias[N]), accumulated in f32",
  });
  return t;
}

}  // namespace jitfuse::ops
