// jitfuse archs: the targets this NVRTC can compile for.
#include "commands.h"

namespace jitfuse::cli {

Command add_archs(CLI::App& app, const GlobalFlags&) {
  CLI::App* sub = app.add_subcommand("archs", "list the GPU architectures NVRTC can target");
  return {sub, [] {
            auto archs = supported_archs();
            if (!archs) return report(archs.error());
            for (const std::string& a : *archs) std::printf("%s\n", a.c_str());
            return kExitOk;
          }};
}

}  // namespace jitfuse::cli
