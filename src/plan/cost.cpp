#include "plan/cost.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>
#include <vector>

namespace jitfuse {
namespace {

std::vector<std::string> split(const std::string& key) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(key);
  while (std::getline(in, cur, '*')) if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string merge(const std::string& a, const std::string& b) {
  std::vector<std::string> all = split(a), more = split(b);
  all.insert(all.end(), more.begin(), more.end());
  std::sort(all.begin(), all.end());
  std::string key;
  for (const auto& s : all) key += (key.empty() ? "" : "*") + s;
  return key;
}

}  // namespace

Cost::Cost(double c) {
  if (c != 0) terms_[""] = c;
}

Cost Cost::numel(const Shape& shape) {
  Cost c(1);
  for (const Dim& d : shape) {
    Cost f;
    if (d.is_symbolic()) f.terms_[d.symbol] = 1;
    else f = Cost(double(d.size));
    c = c * f;
  }
  return c;
}

Cost Cost::operator+(const Cost& o) const {
  Cost r = *this;
  for (const auto& [k, v] : o.terms_) r.terms_[k] += v;
  return r;
}

Cost Cost::operator*(const Cost& o) const {
  Cost r;
  for (const auto& [ka, va] : terms_) {
    for (const auto& [kb, vb] : o.terms_) r.terms_[merge(ka, kb)] += va * vb;
  }
  return r;
}

Cost Cost::operator*(double c) const { return *this * Cost(c); }

std::optional<double> Cost::evaluate(const std::map<std::string, std::int64_t>& dims) const {
  double total = 0;
  for (const auto& [k, v] : terms_) {
    double t = v;
    for (const std::string& s : split(k)) {
      auto it = dims.find(s);
      if (it == dims.end()) return std::nullopt;
      t *= double(it->second);
    }
    total += t;
  }
  return total;
}

std::string Cost::to_string() const {
  if (terms_.empty()) return "0";
  std::string out;
  // Highest-degree terms first, as a reader expects of a polynomial.
  std::vector<std::pair<std::string, double>> sorted(terms_.begin(), terms_.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return split(a.first).size() > split(b.first).size();
  });
  for (const auto& [k, v] : sorted) {
    if (!out.empty()) out += " + ";
    std::string sym = k;
    if (k.empty()) out += fmt::format("{:.0f}", v);
    else if (v == 1) out += sym;
    else out += fmt::format("{:.0f}*{}", v, sym);
  }
  return out;
}

}  // namespace jitfuse
