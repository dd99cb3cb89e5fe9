#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "engine/safetensors.h"
#include "tests/support/compare.h"

namespace medtex {
namespace {

namespace fs = std::filesystem;

class Safetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("medtex_st_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(Safetensors, RoundTripsEveryDtypeAndMetadata) {
  std::map<std::string, Tensor> t = {
      {"a.weight", Tensor::from_vector<float>({1.5f, -2, 3, 4, 5, 6}, {2, 3})},
      {"b", Tensor::from_vector<double>({0.1, 0.2}, {2})},
      {"c", Tensor::from_vector<int32_t>({7}, {1})},
      {"d.num", Tensor::from_vector<int64_t>({9}, {})},
      {"empty", Tensor::zeros({0, 4})},
  };
  save_safetensors(path("x.safetensors"), t, {{"arch", "cnn-small"}});
  const auto f = load_safetensors(path("x.safetensors"));
  ASSERT_EQ(f.tensors.size(), t.size());
  for (const auto& [name, tensor] : t) {
    ASSERT_TRUE(f.tensors.count(name)) << name;
    EXPECT_TRUE(test::bitwise_equal(f.tensors.at(name), tensor)) << name;
  }
  EXPECT_EQ(f.metadata.at("arch"), "cnn-small");
  EXPECT_FALSE(fs::exists(path("x.safetensors.tmp")));
}

TEST_F(Safetensors, ReadsTheFixturesPyTorchWrote) {
  const auto f = load_safetensors(std::string(MEDTEX_FIXTURE_DIR) + "/ops/relu.safetensors");
  EXPECT_TRUE(f.tensors.count("case0.x"));
  EXPECT_TRUE(f.metadata.count("cases"));
}

TEST_F(Safetensors, TruncatedFileFailsWithItsName) {
  save_safetensors(path("t.safetensors"), {{"w", Tensor::ones({64})}});
  const auto size = fs::file_size(path("t.safetensors"));
  fs::resize_file(path("t.safetensors"), size - 10);
  try {
    load_safetensors(path("t.safetensors"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("t.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  fs::resize_file(path("t.safetensors"), 4);
  EXPECT_THROW(load_safetensors(path("t.safetensors")), Error);
}

TEST_F(Safetensors, MalformedHeadersFail) {
  auto write_raw = [&](const std::string& header, size_t data_bytes) {
    std::ofstream out(path("m.safetensors"), std::ios::binary);
    const uint64_t n = header.size();
    out.write(reinterpret_cast<const char*>(&n), 8);  // little-endian host
    out << header << std::string(data_bytes, '\0');
  };
  write_raw("{not json", 0);
  EXPECT_THROW(load_safetensors(path("m.safetensors")), Error);
  write_raw(R"({"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})", 4);
  EXPECT_THROW(load_safetensors(path("m.safetensors")), Error);
  write_raw(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8);
  EXPECT_THROW(load_safetensors(path("m.safetensors")), Error);
  write_raw(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4);
  EXPECT_THROW(load_safetensors(path("m.safetensors")), Error);
  write_raw(R"({"w":{"dtype":"F32","shape":[2]}})", 8);
  EXPECT_THROW(load_safetensors(path("m.safetensors")), Error);
  EXPECT_THROW(load_safetensors(path("missing.safetensors")), Error);
}

}  // namespace
}  // namespace medtex
