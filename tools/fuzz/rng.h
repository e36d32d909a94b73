// A small seeded random generator whose streams are the same on every platform and standard
// library (std::uniform_int_distribution is not), so that a seed and a case number name one
// case forever.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace jitfuse::fuzz {

// splitmix64: a fast generator with good statistics; its state is one counter.
class Rng {
 public:
  // The stream for case `index` of run `seed`: independent of every other case, so that
  // `--case N` rebuilds case N without generating the ones before it.
  Rng(std::uint64_t seed, std::uint64_t index) : state_(mix(seed ^ mix(index + 0x51ed2701))) {}

  // The next 64 random bits.
  std::uint64_t next() { return mix(state_ += 0x9e3779b97f4a7c15ULL); }
  // Uniform in [0, n); 0 when n is 0.
  std::size_t below(std::size_t n) { return n == 0 ? 0 : std::size_t(next() % n); }
  // Uniform in [lo, hi].
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + std::int64_t(below(std::size_t(hi - lo) + 1));
  }
  // True with probability `p`.
  bool chance(double p) { return double(next() >> 11) * 0x1.0p-53 < p; }
  // Uniform in [0, 1).
  double unit() { return double(next() >> 11) * 0x1.0p-53; }
  // One element of a non-empty list.
  template <class T>
  const T& pick(const std::vector<T>& items) { return items[below(items.size())]; }

 private:
  static std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
};

}  // namespace jitfuse::fuzz
