#include "medtex/data/split.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "engine/rng.h"
#include "kernels/common/error.h"

namespace medtex::data {

namespace {

// Members of each stratum, in stratum order, each shuffled (Fisher-Yates) by
// the stream (seed, purpose, stratum).
std::map<int64_t, std::vector<int64_t>> shuffled_strata(const std::vector<int64_t>& members,
                                                        const std::vector<int64_t>& strata,
                                                        uint64_t seed, const char* purpose) {
  std::map<int64_t, std::vector<int64_t>> groups;
  for (int64_t i : members) {
    MT_CHECK(i >= 0 && i < int64_t(strata.size()), "split: sample ", i, " out of range [0, ",
             strata.size(), ")");
    groups[strata[size_t(i)]].push_back(i);
  }
  const Generator base = Generator(seed).fork(purpose);
  for (auto& [stratum, v] : groups) {
    Generator g = base.fork("stratum " + std::to_string(stratum));
    for (size_t k = v.size(); k > 1; --k) std::swap(v[k - 1], v[g.next_below(k)]);
  }
  return groups;
}

}  // namespace

Split stratified_split(const std::vector<int64_t>& strata, double val_fraction,
                       double test_fraction, uint64_t seed) {
  MT_CHECK(val_fraction >= 0 && test_fraction >= 0 && val_fraction + test_fraction <= 1.0,
           "split: fractions val ", val_fraction, " and test ", test_fraction,
           " must be >= 0 and sum to at most 1");
  std::vector<int64_t> all(strata.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = int64_t(i);
  const auto groups = shuffled_strata(all, strata, seed, "split");
  Split s;
  int64_t seen = 0, test_done = 0, val_done = 0;
  for (const auto& [stratum, v] : groups) {
    const int64_t n = int64_t(v.size());
    seen += n;
    // Cumulative rounding: totals hit round(seen * fraction) after every stratum.
    int64_t n_test = int64_t(std::floor(double(seen) * test_fraction + 0.5)) - test_done;
    int64_t n_val = int64_t(std::floor(double(seen) * val_fraction + 0.5)) - val_done;
    n_test = std::clamp<int64_t>(n_test, 0, n);
    n_val = std::clamp<int64_t>(n_val, 0, n - n_test);
    test_done += n_test;
    val_done += n_val;
    s.test.insert(s.test.end(), v.begin(), v.begin() + n_test);
    s.val.insert(s.val.end(), v.begin() + n_test, v.begin() + n_test + n_val);
    s.train.insert(s.train.end(), v.begin() + n_test + n_val, v.end());
  }
  std::sort(s.train.begin(), s.train.end());
  std::sort(s.val.begin(), s.val.end());
  std::sort(s.test.begin(), s.test.end());
  return s;
}

std::vector<int64_t> nested_order(const std::vector<int64_t>& pool,
                                  const std::vector<int64_t>& strata, uint64_t seed) {
  const auto groups = shuffled_strata(pool, strata, seed, "subset");
  std::vector<const std::vector<int64_t>*> lists;
  for (const auto& [stratum, v] : groups) lists.push_back(&v);
  std::vector<size_t> taken(lists.size(), 0);
  std::vector<int64_t> order;
  order.reserve(pool.size());
  while (order.size() < pool.size()) {
    // The stratum furthest behind its share: smallest (taken + 1/2) / size,
    // compared exactly by cross-multiplication; ties go to the lower stratum.
    size_t best = lists.size();
    for (size_t c = 0; c < lists.size(); ++c) {
      if (taken[c] >= lists[c]->size()) continue;
      if (best == lists.size() ||
          (2 * taken[c] + 1) * lists[best]->size() < (2 * taken[best] + 1) * lists[c]->size()) {
        best = c;
      }
    }
    order.push_back((*lists[best])[taken[best]++]);
  }
  return order;
}

std::vector<int64_t> nested_subset(const std::vector<int64_t>& pool,
                                   const std::vector<int64_t>& strata, int64_t n, uint64_t seed) {
  std::vector<int64_t> order = nested_order(pool, strata, seed);
  if (n > 0 && n < int64_t(order.size())) order.resize(size_t(n));
  std::sort(order.begin(), order.end());
  return order;
}

}  // namespace medtex::data
