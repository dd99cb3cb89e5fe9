// Train / validation / test splits and the nested small-data subsets.
//
// Both are stratified (every class keeps its share) and a pure function of
// the seed: each stratum is shuffled by its own Philox stream, so the split
// of one class does not move when another class gains samples.
#pragma once

#include <cstdint>
#include <vector>

namespace medtex::data {

struct Split {
  std::vector<int64_t> train, val, test;  // sample indices, ascending
};

// strata[i]: the stratum of sample i (see strata_of). Test and validation get
// round(N * fraction) samples in total, and each stratum its share to within
// one sample (cumulative rounding across strata); train gets the rest.
Split stratified_split(const std::vector<int64_t>& strata, double val_fraction,
                       double test_fraction, uint64_t seed);

// An order of `pool` whose every prefix is stratified: strata interleave in
// proportion to their sizes (each step takes from the stratum furthest behind
// its share). The first n form the subset of size n, so for one seed a larger
// n contains every smaller one.
std::vector<int64_t> nested_order(const std::vector<int64_t>& pool,
                                  const std::vector<int64_t>& strata, uint64_t seed);
// The first n of nested_order (all of pool when n <= 0 or n >= its size), ascending.
std::vector<int64_t> nested_subset(const std::vector<int64_t>& pool,
                                   const std::vector<int64_t>& strata, int64_t n, uint64_t seed);

}  // namespace medtex::data
