#include "tests/support/fixtures.h"

#include <cstdio>

#include <gtest/gtest.h>

#include "tests/support/compare.h"

namespace medtex::test {

Fixture::Fixture(const std::string& op)
    : op_(op), file_(load_safetensors(std::string(MEDTEX_FIXTURE_DIR) + "/ops/" + op + ".safetensors")) {
  auto it = file_.metadata.find("cases");
  MT_CHECK(it != file_.metadata.end(), "fixture ", op, ": no 'cases' metadata");
  cases_ = nlohmann::json::parse(it->second).get<std::vector<std::string>>();
}

nlohmann::json Fixture::params(const std::string& c) const {
  auto it = file_.metadata.find(c);
  return it == file_.metadata.end() ? nlohmann::json::object() : nlohmann::json::parse(it->second);
}

bool Fixture::has(const std::string& c, const std::string& name) const {
  return file_.tensors.count(c + "." + name) > 0;
}

Tensor Fixture::get(const std::string& c, const std::string& name) const {
  auto it = file_.tensors.find(c + "." + name);
  MT_CHECK(it != file_.tensors.end(), "fixture ", op_, ": no tensor ", c, ".", name);
  return it->second.copy();  // tests may mark it requires_grad or modify it
}

void expect_fixture(const std::string& op, const std::string& c, const std::string& name,
                    const Tensor& actual, const Tensor& expected, double atol, double rtol) {
  EXPECT_TRUE(all_close(actual, expected, atol, rtol)) << op << " " << c << " " << name;
  if (actual.shape() == expected.shape()) {
    std::printf("[fixture] %s %s %s max|diff|=%.3g\n", op.c_str(), c.c_str(), name.c_str(),
                max_abs_diff(actual, expected));
  }
}

}  // namespace medtex::test
