// How a GEMM kernel applies its fused epilogue (kernels/epilogue.cuh), and how many elements an
// elementwise kernel's thread takes a pass: both copy the epilogue's code, and NVRTC's time
// grows with the copies times the code.
#pragma once

#include <string>

#include "codegen/config.h"

namespace jitfuse {

// Straight-line epilogues (OpDef::straight_line) of at most this many FLOPs an element
// (OpDef::flops_per_element, summed over the fused ops) are short: the example's scale, hardtanh
// and bounded GELU are 11. A sigmoid, mul, add, GELU and exp (18, not straight-line) inlined took
// NVRTC 8 s, rolled 1 s (bench/NOTES.md v10).
constexpr double kInlineEpilogueFlops = 16;

// The rolled path holds JF_EPILOGUE_VEC copies of the epilogue's code; the inline path of the
// wgmma and SIMT templates for interior tiles holds one per accumulator of a thread (up to 128).
struct EpilogueForm {
  bool inline_interior = false;  // JF_EPILOGUE_INLINE
  std::string note;              // why, for explain
};

// The form for an epilogue of `flops` an element, straight-line or not, on config `c`: inline on
// interior tiles when short and straight-line (3-7% faster than rolled on the wgmma template's
// 16-bit rows), except on the mma template (rolled measured faster there) and for bf16x3 (level
// with inline, and half a second less of NVRTC).
EpilogueForm epilogue_form(double flops, bool straight_line, const GemmConfig& c);

}  // namespace jitfuse
