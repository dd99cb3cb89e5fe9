// Stratified splits and nested small-data subsets.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "kernels/common/error.h"
#include "medtex/data/split.h"

namespace medtex::data {
namespace {

// 1000 samples over 5 classes with unequal sizes (400, 250, 200, 100, 50),
// interleaved so that class and index are unrelated.
std::vector<int64_t> unequal_labels() {
  const int sizes[5] = {400, 250, 200, 100, 50};
  std::vector<int64_t> labels;
  for (int c = 0; c < 5; ++c) labels.insert(labels.end(), size_t(sizes[c]), c);
  std::vector<int64_t> mixed(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) mixed[(i * 7919) % labels.size()] = labels[i];
  return mixed;
}

std::map<int64_t, int> count_by_class(const std::vector<int64_t>& idx,
                                      const std::vector<int64_t>& labels) {
  std::map<int64_t, int> m;
  for (int64_t i : idx) ++m[labels[size_t(i)]];
  return m;
}

TEST(Split, StratifiedProportions) {
  const std::vector<int64_t> labels = unequal_labels();
  const Split s = stratified_split(labels, 0.15, 0.2, 42);
  EXPECT_EQ(s.test.size(), 200u);
  EXPECT_EQ(s.val.size(), 150u);
  EXPECT_EQ(s.train.size(), 650u);
  // Disjoint and complete.
  std::set<int64_t> all(s.train.begin(), s.train.end());
  all.insert(s.val.begin(), s.val.end());
  all.insert(s.test.begin(), s.test.end());
  EXPECT_EQ(all.size(), labels.size());
  // Every class keeps its share in every part, to within one sample.
  const int sizes[5] = {400, 250, 200, 100, 50};
  const auto test = count_by_class(s.test, labels), val = count_by_class(s.val, labels);
  for (int c = 0; c < 5; ++c) {
    EXPECT_NEAR(test.at(c), sizes[c] * 0.2, 1.0) << "class " << c;
    EXPECT_NEAR(val.at(c), sizes[c] * 0.15, 1.0) << "class " << c;
  }
}

TEST(Split, DeterministicBySeed) {
  const std::vector<int64_t> labels = unequal_labels();
  const Split a = stratified_split(labels, 0.1, 0.1, 1), b = stratified_split(labels, 0.1, 0.1, 1);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.test, b.test);
  const Split c = stratified_split(labels, 0.1, 0.1, 2);
  EXPECT_NE(a.test, c.test) << "the seed should change the split";
  EXPECT_THROW(stratified_split(labels, 0.6, 0.6, 1), Error);
}

TEST(Split, NestedSubsetsContainSmallerOnesAndStayStratified) {
  const std::vector<int64_t> labels = unequal_labels();
  const Split s = stratified_split(labels, 0.1, 0.1, 3);
  std::vector<int64_t> prev;
  for (int64_t n : {25, 50, 100, 200, 400}) {
    const std::vector<int64_t> sub = nested_subset(s.train, labels, n, 9);
    ASSERT_EQ(int64_t(sub.size()), n);
    EXPECT_TRUE(std::includes(sub.begin(), sub.end(), prev.begin(), prev.end()))
        << "subset " << n << " does not contain the previous one";
    for (int64_t i : sub) {
      EXPECT_TRUE(std::binary_search(s.train.begin(), s.train.end(), i)) << "not from the pool";
    }
    // Each class within one sample of its share of the pool.
    const auto pool = count_by_class(s.train, labels), got = count_by_class(sub, labels);
    for (const auto& [c, count] : pool) {
      const double share = double(count) * double(n) / double(s.train.size());
      const int have = got.count(c) ? got.at(c) : 0;
      EXPECT_LE(std::fabs(have - share), 1.0) << "n " << n << " class " << c;
    }
    prev = sub;
  }
  EXPECT_EQ(nested_subset(s.train, labels, 0, 9).size(), s.train.size()) << "n <= 0 means all";
  EXPECT_NE(nested_subset(s.train, labels, 50, 9), nested_subset(s.train, labels, 50, 10));
}

}  // namespace
}  // namespace medtex::data
