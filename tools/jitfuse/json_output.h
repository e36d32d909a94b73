// `--format json`: the documents compile, warm, cache ls and cache stats print for scripts (their
// shapes are in docs/cache.md). One document on stdout; logs, warnings and errors on stderr.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "jitfuse/jitfuse.hpp"

namespace jitfuse::cli {

using ojson = nlohmann::ordered_json;  // keys in the order the documents list them

// Adds --format text|json (default text) to `sub`; another value is a parse error (exit 2).
void add_format_flag(CLI::App* sub, std::string& format);
// An Error as {"code", "message", "pointer", "file"} (pointer and file null when empty).
ojson error_json(const Error& error);
// A kernel of a build: its name, where it came from (tier memory, disk or compiled), its cache
// entry and whether this build stored it, math, template and config, and what was not applied.
ojson kernel_json(const KernelArtifact& kernel);
// {"M": 2048, ...}
ojson dims_json(const std::map<std::string, std::int64_t>& dims);
// A string, or null when it is empty.
ojson string_or_null(const std::string& s);
// Prints `doc` on stdout, indented, with a final newline.
void print_json(const ojson& doc);

}  // namespace jitfuse::cli
