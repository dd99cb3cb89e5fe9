#include "medtex/train/checkpoint.h"

#include <cinttypes>
#include <cstdio>

#include "kernels/common/error.h"

namespace medtex::train {

namespace {
constexpr const char* kCounters = "optim.counters";

// a + b by append: GCC 12 at -O3 reports a false -Wrestrict overlap for
// operator+(const char*, std::string) (GCC bug 105329).
std::string cat(const std::string& a, const std::string& b) {
  std::string s;
  s.reserve(a.size() + b.size());
  s.append(a);
  s.append(b);
  return s;
}
}  // namespace

void add_module_tensors(TensorMap& out, const std::string& prefix, const nn::Module& m, bool copy) {
  for (const auto& [name, t] : m.state_dict()) {
    out[cat(cat(prefix, "."), name)] = copy ? t.copy() : t;
  }
}

TensorMap with_prefix(const TensorMap& all, const std::string& prefix) {
  TensorMap out;
  const std::string p = prefix + ".";
  for (const auto& [name, t] : all) {
    if (name.compare(0, p.size(), p) == 0) out[name.substr(p.size())] = t;
  }
  return out;
}

void load_module_tensors(const TensorMap& all, const std::string& prefix, nn::Module& m,
                         const std::string& path) {
  try {
    m.load_state_dict(with_prefix(all, prefix));
  } catch (const Error& e) {
    fail(path, ": the checkpoint's ", prefix, " does not fit this run's net: ", e.what());
  }
}

void write_checkpoint(const std::string& path, TensorMap tensors, const optim::Optimizer& opt,
                      Metadata metadata) {
  for (const auto& [name, t] : opt.state()) tensors[cat("optim.", name)] = t;
  const std::vector<int64_t> counters = opt.counters();
  tensors[kCounters] = Tensor::from_vector(counters, {int64_t(counters.size())});
  metadata["medtex.checkpoint"] = std::string("1");
  metadata["optim.steps"] = std::to_string(opt.steps_taken());
  save_safetensors(path, tensors, metadata);
}

SafetensorsFile read_checkpoint(const std::string& path) {
  SafetensorsFile f = load_safetensors(path);
  MT_CHECK(f.metadata.count("medtex.checkpoint"), path,
           ": not a medtex training checkpoint (no 'medtex.checkpoint' in its metadata; a model "
           "file cannot be resumed from)");
  return f;
}

void restore_optimizer(optim::Optimizer& opt, const TensorMap& all, int64_t steps,
                       const std::string& path) {
  MT_CHECK(steps >= 0, path, ": negative optimiser step count ", steps);
  std::vector<int64_t> counters = opt.counters();
  const auto saved = all.find(kCounters);
  if (saved != all.end()) {
    const Tensor& c = saved->second;
    MT_CHECK(c.dtype() == DType::I64 && c.ndim() == 1 && c.size(0) == int64_t(counters.size()),
             path, ": '", kCounters, "' is ", c.str(), ", expected int64 [", counters.size(),
             "] (another optimiser or net?)");
    counters = c.to_vector<int64_t>();
  } else {
    for (int64_t& v : counters) v = opt.counter_after(steps);
  }
  try {
    opt.set_counters(counters);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  TensorMap state = with_prefix(all, "optim");
  state.erase("counters");
  const auto mine = opt.state();
  MT_CHECK(state.size() == mine.size(), path, ": the checkpoint holds ", state.size(),
           " optimiser tensors but this run's optimiser has ", mine.size(),
           " (another optimiser or net?)");
  for (const auto& [name, t] : mine) {
    const auto it = state.find(name);
    MT_CHECK(it != state.end(), path, ": no optimiser tensor 'optim.", name, "'");
    MT_CHECK(it->second.shape() == t.shape() && it->second.dtype() == t.dtype(), path,
             ": optimiser tensor 'optim.", name, "' is ", it->second.str(), ", expected ", t.str());
    Tensor dst = t;
    dst.copy_from(it->second);
  }
  opt.set_steps_taken(steps);
}

std::string encode_generator(const Generator& g) {
  const Generator::State s = g.state();
  char buf[128];
  std::snprintf(buf, sizeof buf, "%" PRIu64 " %" PRIu32 " %" PRIu32 " %" PRIu64, s.seed, s.stream,
                s.offset, s.scalar_index);
  return buf;
}

void decode_generator(const std::string& text, Generator& g, const std::string& where) {
  Generator::State s{};
  int used = 0;
  const int got = std::sscanf(text.c_str(), "%" SCNu64 " %" SCNu32 " %" SCNu32 " %" SCNu64 "%n",
                              &s.seed, &s.stream, &s.offset, &s.scalar_index, &used);
  MT_CHECK(got == 4 && size_t(used) == text.size(), where, ": malformed generator state '", text,
           "'");
  g.set_state(s);
}

std::string first_difference(const Metadata& saved, const Metadata& now) {
  for (const auto& [key, value] : now) {
    const auto it = saved.find(key);
    const std::string old = it == saved.end() ? "nothing" : it->second;
    if (it == saved.end() || it->second != value) {
      return key + ": the checkpoint has " + old + ", this run has " + value;
    }
  }
  for (const auto& [key, value] : saved) {
    if (!now.count(key)) return key + ": the checkpoint has " + value + ", this run has nothing";
  }
  return "";
}

}  // namespace medtex::train
