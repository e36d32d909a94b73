#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <string>

#include "common/text.h"

namespace jitfuse::log {
namespace {

spdlog::logger& logger() {
  static std::shared_ptr<spdlog::logger> l = [] {
    auto s = spdlog::stderr_color_mt("jitfuse");
    s->set_pattern("[%n] %^%l%$: %v");
    s->set_level(spdlog::level::warn);
    if (const char* env = std::getenv("JITFUSE_LOG")) {
      const std::string v = env;
      if (v == "debug") s->set_level(spdlog::level::debug);
      else if (v == "info") s->set_level(spdlog::level::info);
      else if (v == "off") s->set_level(spdlog::level::off);
    }
    return s;
  }();
  return *l;
}

}  // namespace

void set_verbose(bool on) { logger().set_level(on ? spdlog::level::debug : spdlog::level::warn); }
bool verbose() { return logger().should_log(spdlog::level::debug); }
// Every line goes through terminal_text: a message may quote a path or a value from the
// environment, and no such text may drive the terminal.
void debug(std::string_view message) {
  if (logger().should_log(spdlog::level::debug)) logger().debug("{}", terminal_text(message));
}
void info(std::string_view message) {
  if (logger().should_log(spdlog::level::info)) logger().info("{}", terminal_text(message));
}
void warn(std::string_view message) {
  if (logger().should_log(spdlog::level::warn)) logger().warn("{}", terminal_text(message));
}

}  // namespace jitfuse::log
