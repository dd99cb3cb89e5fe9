// Golden values written by PyTorch (tools/fixtures/*.py, run by
// tools/gen-fixtures) and committed under tests/fixtures/ops/<op>.safetensors,
// so running the tests needs no Python.
//
// File layout: tensors named "<case>.<name>" (inputs such as x, w; outputs
// such as y; the upstream gradient grad_y; input gradients grad_x, ...), and
// metadata {"cases": "[\"case0\", ...]", "<case>": "<json of the op's
// parameters>"}.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/safetensors.h"

namespace medtex::test {

class Fixture {
 public:
  explicit Fixture(const std::string& op);  // loads tests/fixtures/ops/<op>.safetensors
  const std::vector<std::string>& cases() const { return cases_; }
  nlohmann::json params(const std::string& c) const;
  Tensor get(const std::string& c, const std::string& name) const;
  bool has(const std::string& c, const std::string& name) const;

 private:
  std::string op_;
  SafetensorsFile file_;
  std::vector<std::string> cases_;
};

// EXPECTs all_close(actual, expected) and prints one line
//   [fixture] <op> <case> <name> max|diff|=<value>
// which the notes quote as "largest error against PyTorch".
void expect_fixture(const std::string& op, const std::string& c, const std::string& name,
                    const Tensor& actual, const Tensor& expected, double atol, double rtol);

}  // namespace medtex::test
