#include "cache/key.h"

#include <fmt/format.h>

#define XXH_INLINE_ALL
#include <xxhash.h>


namespace jitfuse {
namespace {

// Feeds length-prefixed fields, so that no two field lists hash the same bytes.
class Hasher {
 public:
  Hasher() : state_(XXH3_createState()) { XXH3_128bits_reset(state_); }
  ~Hasher() { XXH3_freeState(state_); }
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void field(std::string_view bytes) {
    const std::uint64_t n = bytes.size();
    XXH3_128bits_update(state_, &n, sizeof n);
    XXH3_128bits_update(state_, bytes.data(), bytes.size());
  }
  XXH128_hash_t digest() const { return XXH3_128bits_digest(state_); }

 private:
  XXH3_state_t* state_;
};

}  // namespace

CacheKey make_key(const KernelSource& source, const Arch& arch,
                  const std::vector<std::string>& options, const NvrtcVersion& nvrtc,
                  const std::vector<embedded::File>& headers) {
  Hasher h;
  h.field(fmt::format("jitfuse-cache-format-{}", kCacheFormatVersion));
  h.field(source.code);
  for (const auto& f : headers) {
    h.field(f.name);
    h.field(f.text);
  }
  for (const auto& o : options) h.field(o);
  h.field(arch.name());
  h.field(nvrtc.tag());

  CacheKey key;
  XXH128_canonical_t canon;
  XXH128_canonicalFromHash(&canon, h.digest());
  static_assert(sizeof canon.digest == sizeof key.raw);
  for (std::size_t i = 0; i < sizeof key.raw; ++i) {
    key.raw[i] = canon.digest[i];
    key.digest += fmt::format("{:02x}", canon.digest[i]);
  }
  key.file_name = fmt::format("{}.{}.{}.{}.jfk", source.name, arch.short_name(), nvrtc.tag(),
                              key.digest);
  return key;
}

}  // namespace jitfuse
