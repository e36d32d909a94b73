// .npy reading and writing: byte-exact agreement with np.save, every rejection with its code,
// and atomic writes. Fixtures are written byte by byte here, so no Python is needed.
#include <doctest/doctest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "io/npy.h"

namespace {

namespace fs = std::filesystem;
using jitfuse::ErrorCode;
using jitfuse::io::NpyArray;
using jitfuse::io::read_npy;
using jitfuse::io::write_npy;

// A fresh directory under the system temp dir, removed with its contents.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() / fmt::format("jitfuse_test_npy_{}_{}", ::getpid(), counter++);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path))
      names.push_back(e.path().filename().string());
    return names;
  }
};

void write_bytes(const fs::path& p, std::string_view bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::vector<std::byte> to_bytes(std::string_view s) {
  std::vector<std::byte> out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

std::string le(std::uint64_t v, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
  return out;
}

// A file with the given header text, padded only to its newline: older writers aligned the
// data to 16 bytes or not at all, and a reader must not care.
std::string npy_file(int major, std::string_view dict, std::string_view data) {
  const std::string header = std::string(dict) + "\n";
  return std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0' +
         le(header.size(), major == 1 ? 2 : 4) + header + std::string(data);
}

// A v1 file holding `dict` and `zero_bytes` bytes of zeros.
std::string npy_v1(std::string_view dict, std::size_t zero_bytes = 8) {
  return npy_file(1, dict, std::string(zero_bytes, '\0'));
}

// np.arange(5, dtype='<f4') and np.arange(6, dtype='<f2').reshape(2, 3), as raw bytes.
const std::string kArange5F4(
    "\x00\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40", 20);
const std::string kArange6F2("\x00\x00\x00\x3c\x00\x40\x00\x42\x00\x44\x00\x45", 12);

// What np.save writes for those: a 118-byte v1 header (length 0x76) holding the dict, 20 spaces
// of growth room for the first axis, padding and '\n', so that the data starts at byte 128.
const std::string kNumpyV1F4 = std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
                               "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }" +
                               std::string(60, ' ') + "\n" + kArange5F4;
const std::string kNumpyV1F2 = std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
                               "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }" +
                               std::string(58, ' ') + "\n" + kArange6F2;
// A 0-d array gets no growth room.
const std::string kNumpyV1Scalar = std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
                                   "{'descr': '<f4', 'fortran_order': False, 'shape': (), }" +
                                   std::string(62, ' ') + "\n" + kArange5F4.substr(4, 4);
// np.zeros((0,) + (1,) * 15, '<f4'): here the growth room pushes the data from byte 128 to 192.
const std::string kNumpyV1Growth =
    std::string("\x93NUMPY\x01\x00\xb6\x00", 10) +
    "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, "
    "1, 1), }" +
    std::string(80, ' ') + "\n";
// np.lib.format.write_array(f, a, version=(2, 0)): a 4-byte length field, data still at 128.
const std::string kNumpyV2F2 = std::string("\x93NUMPY\x02\x00\x74\x00\x00\x00", 12) +
                               "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }" +
                               std::string(56, ' ') + "\n" + kArange6F2;

NpyArray make_array(std::string descr, std::vector<std::int64_t> shape) {
  NpyArray a{std::move(descr), std::move(shape), {}};
  a.data.resize(static_cast<std::size_t>(a.numel()) * a.itemsize());
  for (std::size_t i = 0; i < a.data.size(); ++i) a.data[i] = static_cast<std::byte>(i * 37 + 11);
  return a;
}

// Restores the file-size limit and SIGXFSZ handling even when a check fails.
struct FileSizeLimit {
  rlimit old{};
  void (*old_handler)(int) = nullptr;
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &old);
    // Without this, exceeding the limit kills the process instead of failing the write.
    old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lim = old;
    lim.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);
  }
};

}  // namespace

TEST_CASE("npy: f4 and f2 round trip at every rank") {
  TempDir dir;
  for (const char* descr : {"<f4", "<f2"}) {
    for (const auto& shape : std::vector<std::vector<std::int64_t>>{{}, {0}, {7}, {2, 3}}) {
      CAPTURE(descr);
      CAPTURE(shape.size());
      const NpyArray a = make_array(descr, shape);
      const fs::path p = dir.path / "a.npy";
      REQUIRE(write_npy(p, a).ok());
      const auto b = read_npy(p);
      REQUIRE(b.ok());
      CHECK(b->descr == a.descr);
      CHECK(b->shape == a.shape);
      CHECK(b->data == a.data);
      const std::string raw = read_bytes(p);
      CHECK(raw.size() == 128 + a.data.size());  // data 64-aligned, as NumPy
      CHECK(raw[127] == '\n');
    }
  }
  CHECK(dir.entries() == std::vector<std::string>{"a.npy"});  // no temporaries left behind
}

TEST_CASE("npy: the writer's bytes equal np.save's") {
  TempDir dir;
  const fs::path p = dir.path / "x.npy";
  REQUIRE(write_npy(p, NpyArray{"<f4", {5}, to_bytes(kArange5F4)}).ok());
  CHECK(read_bytes(p) == kNumpyV1F4);
  REQUIRE(write_npy(p, NpyArray{"<f2", {2, 3}, to_bytes(kArange6F2)}).ok());
  CHECK(read_bytes(p) == kNumpyV1F2);
  REQUIRE(write_npy(p, NpyArray{"<f4", {}, to_bytes(kArange5F4.substr(4, 4))}).ok());
  CHECK(read_bytes(p) == kNumpyV1Scalar);
  std::vector<std::int64_t> shape(16, 1);
  shape[0] = 0;
  REQUIRE(write_npy(p, NpyArray{"<f4", shape, {}}).ok());
  CHECK(read_bytes(p) == kNumpyV1Growth);
}

TEST_CASE("npy: reads NumPy's v1 and v2 files") {
  TempDir dir;
  const fs::path p = dir.path / "x.npy";
  write_bytes(p, kNumpyV1F4);
  auto a = read_npy(p);
  REQUIRE(a.ok());
  CHECK(a->descr == "<f4");
  CHECK(a->shape == std::vector<std::int64_t>{5});
  CHECK(a->itemsize() == 4);
  CHECK(a->numel() == 5);
  CHECK(a->data == to_bytes(kArange5F4));

  write_bytes(p, kNumpyV2F2);
  a = read_npy(p);
  REQUIRE(a.ok());
  CHECK(a->descr == "<f2");
  CHECK(a->shape == std::vector<std::int64_t>{2, 3});
  CHECK(a->data == to_bytes(kArange6F2));

  write_bytes(p, kNumpyV1Scalar);
  a = read_npy(p);
  REQUIRE(a.ok());
  CHECK(a->shape.empty());
  CHECK(a->numel() == 1);
}

TEST_CASE("npy: header spellings and dtype normalization") {
  struct Case {
    int major;
    std::string dict;
    std::string descr;
    std::vector<std::int64_t> shape;
  };
  const std::vector<Case> cases = {
      {1, "{'shape':(2,3),'fortran_order':False,'descr':'<f4'}", "<f4", {2, 3}},
      {1, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 3)}", "<f4", {2, 3}},
      {1,
       "  {'descr': '<f4',\n 'fortran_order': False,\t'shape': ( 2 , 3 , ), }  \n ",
       "<f4",
       {2, 3}},
      {2, "{'descr': '<f4', 'fortran_order': False, 'shape': (6L,), }", "<f4", {6}},  // Python 2
      {3, "{'descr': '<i4', 'fortran_order': False, 'shape': (6,), }", "<i4", {6}},
      {1, "{'descr': '=f8', 'fortran_order': False, 'shape': (3,), }", "<f8", {3}},
      {1, "{'descr': 'i2', 'fortran_order': False, 'shape': (12,), }", "<i2", {12}},
      {1, "{'descr': '|f4', 'fortran_order': False, 'shape': (6,), }", "<f4", {6}},
      {1, "{'descr': '<u1', 'fortran_order': False, 'shape': (24,), }", "|u1", {24}},
      {1, "{'descr': '|b1', 'fortran_order': False, 'shape': (4, 6), }", "|b1", {4, 6}},
      {1, "{'descr': '<u8', 'fortran_order': False, 'shape': (3,), }", "<u8", {3}},
      {1, "{'descr': '|i1', 'fortran_order': False, 'shape': (0, 5), }", "|i1", {0, 5}},
  };
  TempDir dir;
  const fs::path p = dir.path / "x.npy";
  for (const Case& c : cases) {
    CAPTURE(c.dict);
    const NpyArray expected = make_array(c.descr, c.shape);
    const std::string data(reinterpret_cast<const char*>(expected.data.data()),
                           expected.data.size());
    write_bytes(p, npy_file(c.major, c.dict, data));
    const auto a = read_npy(p);
    REQUIRE_MESSAGE(a.ok(), a.error().to_string(true));
    CHECK(a->descr == c.descr);
    CHECK(a->shape == c.shape);
    CHECK(a->data == expected.data);
  }
}

TEST_CASE("npy: malformed and unsupported files are bad_file") {
  const auto v1 = [](std::string_view descr, std::string_view shape, std::size_t zero_bytes) {
    return npy_v1(
        fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr, shape),
        zero_bytes);
  };
  const std::string magic("\x93NUMPY", 6);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"bad magic", "hello, this is not an array at all"},
      {"npz", std::string("PK\x03\x04", 4) + std::string(100, '\0')},
      {"only magic", magic},
      {"version 4.0", magic + std::string("\x04\x00\x10\x00", 4) + std::string(16, ' ')},
      {"version 1.1", magic + std::string("\x01\x01\x10\x00", 4) + std::string(16, ' ')},
      {"v2 length cut", magic + std::string("\x02\x00\x10\x00", 4)},
      {"header past end", magic + std::string("\x01\x00\xff\x00", 4) + "{}"},
      {"v2 4 GiB header", magic + std::string("\x02\x00\xff\xff\xff\xff", 6) + "{}"},
      {"2 MiB header",
       magic + std::string("\x02\x00", 2) + le(2 << 20, 4) + std::string(2 << 20, ' ')},
      {"fortran order", npy_v1("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24)},
      {"big-endian", v1(">f4", "(2,)", 8)},
      {"object", v1("|O", "(2,)", 16)},
      {"structured", npy_v1("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }")},
      {"subarray", npy_v1("{'descr': ('<f4', (2,)), 'fortran_order': False, 'shape': (2,), }", 16)},
      {"complex", v1("<c8", "(2,)", 16)},
      {"odd size", v1("<f3", "(2,)", 6)},
      {"string", v1("|S3", "(2,)", 6)},
      {"negative dim", v1("<f4", "(2, -3)", 0)},
      {"dim overflows int64", v1("<f4", "(99999999999999999999,)", 0)},
      {"product overflows", v1("<f4", "(4294967296, 4294967296)", 0)},
      {"zero hides overflow", v1("<f4", "(0, 4611686018427387904)", 0)},
      {"huge but representable", v1("<f4", "(1000000000000,)", 16)},  // must not allocate 4 TB
      {"truncated data", v1("<f4", "(2, 3)", 20)},
      {"trailing bytes", v1("<f4", "(2, 3)", 25)},
      {"missing key", npy_v1("{'descr': '<f4', 'shape': (2,), }")},
      {"extra key", npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}")},
      {"duplicate key",
       npy_v1("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}")},
      {"shape is an int", v1("<f4", "(2)", 8)},
      {"shape is a list", v1("<f4", "[2]", 8)},
      {"shape of floats", v1("<f4", "(2.0,)", 8)},
      {"fortran_order not bool", npy_v1("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }")},
      {"garbage after dict", npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x")},
      {"unterminated dict", npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ")},
      {"unterminated string", npy_v1("{'descr: '<f4', 'fortran_order': False, 'shape': (2,), }")},
      {"not a dict", npy_v1("('<f4', False, (2,))")},
      {"no comma", npy_v1("{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}")},
  };
  TempDir dir;
  const fs::path p = dir.path / "bad.npy";
  for (const auto& c : cases) {
    CAPTURE(c.first);
    write_bytes(p, c.second);
    const auto a = read_npy(p);
    REQUIRE_FALSE(a.ok());
    CHECK(a.error().code == ErrorCode::bad_file);
    CHECK(a.error().file == p.string());
    CHECK_FALSE(a.error().message.empty());
  }
}

TEST_CASE("npy: size mismatches report expected and found byte counts") {
  TempDir dir;
  const fs::path p = dir.path / "x.npy";
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  write_bytes(p, npy_v1(dict, 20));
  auto a = read_npy(p);
  REQUIRE_FALSE(a.ok());
  CHECK(a.error().info.at("expected_bytes") == "24");
  CHECK(a.error().info.at("found_bytes") == "20");

  write_bytes(p, npy_v1(dict, 30));
  a = read_npy(p);
  REQUIRE_FALSE(a.ok());
  CHECK(a.error().info.at("expected_bytes") == "24");
  CHECK(a.error().info.at("found_bytes") == "30");

  write_bytes(p, npy_v1("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24));
  a = read_npy(p);
  REQUIRE_FALSE(a.ok());
  CHECK(a.error().message.find("ascontiguousarray") != std::string::npos);  // the fix is the point
}

TEST_CASE("npy: unreadable paths are io errors naming the file") {
  TempDir dir;
  const fs::path missing = dir.path / "missing.npy";
  auto a = read_npy(missing);
  REQUIRE_FALSE(a.ok());
  CHECK(a.error().code == ErrorCode::io);
  CHECK(a.error().file == missing.string());
  CHECK(a.error().to_string().find("missing.npy") != std::string::npos);

  a = read_npy(dir.path);
  REQUIRE_FALSE(a.ok());
  CHECK(a.error().code == ErrorCode::io);
}

TEST_CASE("npy: writing into a missing directory fails and creates nothing") {
  TempDir dir;
  const fs::path p = dir.path / "nope" / "x.npy";
  const auto s = write_npy(p, make_array("<f4", {3}));
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::io);
  CHECK(s.error().file == p.string());
  CHECK_FALSE(fs::exists(dir.path / "nope"));
  CHECK(dir.entries().empty());
}

TEST_CASE("npy: a failed rename removes the temporary file") {
  TempDir dir;
  fs::create_directory(dir.path / "taken.npy");  // rename() cannot replace a directory with a file
  const auto s = write_npy(dir.path / "taken.npy", make_array("<f4", {3}));
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::io);
  CHECK(dir.entries() == std::vector<std::string>{"taken.npy"});
}

TEST_CASE("npy: a write that fails midway leaves no partial file and keeps the old one") {
  TempDir dir;
  const fs::path p = dir.path / "x.npy";
  const NpyArray old_array = make_array("<f4", {4});
  REQUIRE(write_npy(p, old_array).ok());
  const std::string old_bytes = read_bytes(p);
  {
    const FileSizeLimit limit(1000);  // the header fits, the 64 KiB of data does not
    const auto s = write_npy(p, make_array("<f4", {16384}));
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == ErrorCode::io);
    CHECK(s.error().file == p.string());
  }
  CHECK(read_bytes(p) == old_bytes);
  CHECK(dir.entries() == std::vector<std::string>{"x.npy"});

  const fs::path fresh = dir.path / "fresh.npy";
  {
    const FileSizeLimit limit(1000);
    CHECK_FALSE(write_npy(fresh, make_array("<f4", {16384})).ok());
  }
  CHECK_FALSE(fs::exists(fresh));
  CHECK(dir.entries() == std::vector<std::string>{"x.npy"});
}

TEST_CASE("npy: an inconsistent array is an internal error and writes nothing") {
  TempDir dir;
  const fs::path p = dir.path / "x.npy";
  NpyArray short_data = make_array("<f4", {2, 3});
  short_data.data.pop_back();
  const std::vector<NpyArray> bad = {short_data, make_array("=f4", {3}), make_array(">f4", {3}),
                                     make_array("<c8", {3}), NpyArray{"<f4", {-1}, {}}};
  for (const NpyArray& a : bad) {
    CAPTURE(a.descr);
    const auto s = write_npy(p, a);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == ErrorCode::internal);
  }
  CHECK(dir.entries().empty());
}

TEST_CASE("npy: writing replaces an existing file") {
  TempDir dir;
  const fs::path p = dir.path / "x.npy";
  REQUIRE(write_npy(p, make_array("<f4", {100})).ok());
  const NpyArray b = make_array("|u1", {3});
  REQUIRE(write_npy(p, b).ok());
  const auto r = read_npy(p);
  REQUIRE(r.ok());
  CHECK(r->descr == "|u1");
  CHECK(r->data == b.data);
}

TEST_CASE("npy: a header too big for version 1.0 is written as 2.0") {
  TempDir dir;
  const fs::path p = dir.path / "x.npy";
  const NpyArray a =
      make_array("<f2", std::vector<std::int64_t>(22000, 1));  // "1, " x 22000 > 65535
  REQUIRE(write_npy(p, a).ok());
  const std::string raw = read_bytes(p);
  CHECK(raw[6] == '\x02');
  const std::size_t data_at = raw.size() - a.data.size();
  CHECK(data_at % 64 == 0);
  CHECK(raw[data_at - 1] == '\n');
  const auto r = read_npy(p);
  REQUIRE(r.ok());
  CHECK(r->shape == a.shape);
  CHECK(r->data == a.data);
}

TEST_CASE("npy: itemsize and numel") {
  CHECK(NpyArray{"<f8", {2, 3}, {}}.itemsize() == 8);
  CHECK(NpyArray{"|b1", {}, {}}.itemsize() == 1);
  CHECK(NpyArray{"<c8", {}, {}}.itemsize() == 0);
  CHECK(NpyArray{"<f4", {}, {}}.numel() == 1);
  CHECK(NpyArray{"<f4", {0, 4}, {}}.numel() == 0);
  CHECK(NpyArray{"<f4", {2, 3, 4}, {}}.numel() == 24);
}
