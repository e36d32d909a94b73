#include "codegen/epilogue_form.h"

#include <fmt/format.h>

namespace jitfuse {

EpilogueForm epilogue_form(double flops, bool straight_line, const GemmConfig& c) {
  EpilogueForm f;
  f.inline_interior = c.tmpl != GemmTemplate::mma && !c.x3 && straight_line && flops <= kInlineEpilogueFlops;
  if (f.inline_interior) {
    f.note = fmt::format("epilogue ({:g} FLOPs an element) inline on interior tiles, rolled on edge tiles", flops);
    return f;
  }
  const std::string why = c.tmpl == GemmTemplate::mma ? "the mma template always: measured faster"
                          : c.x3 ? "bf16x3 always: measured level with inline"
                          : !straight_line ? "a division, square root or libm slow path: keeps NVRTC's time short"
                                           : fmt::format("over {:g}: keeps NVRTC's time short", kInlineEpilogueFlops);
  f.note = fmt::format("epilogue ({:g} FLOPs an element) rolled: staged in shared memory and applied in a loop ({})",
                       flops, why);
  return f;
}

}  // namespace jitfuse
