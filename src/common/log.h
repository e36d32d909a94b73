// Logging for the library and CLI, through spdlog (kept out of every other file). Messages go
// to stderr. Level: warnings by default; debug with set_verbose(true) or JITFUSE_LOG=debug.
#pragma once

#include <string_view>

namespace jitfuse::log {

// Turns stage-by-stage debug logging on or off.
void set_verbose(bool on);
// True when debug messages are printed.
bool verbose();
// Logs at debug level ("[jitfuse] cache: disk hit ...").
void debug(std::string_view message);
// Logs at info level.
void info(std::string_view message);
// Logs at warning level.
void warn(std::string_view message);

}  // namespace jitfuse::log
