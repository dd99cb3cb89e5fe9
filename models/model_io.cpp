#include "models/model_io.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/safetensors.h"
#include "models/cnn_small.h"
#include "models/explainer.h"
#include "models/resnet18.h"

namespace medtex::models {

namespace {

void validate(const ModelConfig& c, const std::string& where) {
  bool known = false;
  for (const auto& a : known_architectures()) known = known || a == c.arch;
  std::string list;
  for (const auto& a : known_architectures()) list += (list.empty() ? "" : ", ") + a;
  MT_CHECK(known, where, "unknown architecture '", c.arch, "' (known: ", list, ")");
  MT_CHECK(std::isfinite(c.width) && c.width > 0, where, c.arch,
           ": width must be a positive number, got ", c.width);
  MT_CHECK(c.num_classes > 0, where, c.arch, ": num_classes must be positive, got ", c.num_classes);
  MT_CHECK(c.in_channels > 0, where, c.arch, ": in_channels must be positive, got ", c.in_channels);
  MT_CHECK(c.input_size > 0, where, c.arch, ": input_size must be positive, got ", c.input_size);
  MT_CHECK(c.norm_mean.size() == c.norm_std.size(), where, c.arch, ": norm_mean has ",
           c.norm_mean.size(), " values but norm_std ", c.norm_std.size());
  MT_CHECK(c.norm_mean.empty() || int(c.norm_mean.size()) == c.in_channels, where, c.arch,
           ": normalisation for ", c.norm_mean.size(),
           " channels but in_channels = ", c.in_channels);
  for (double s : c.norm_std) {
    MT_CHECK(std::isfinite(s) && s > 0, where, c.arch, ": norm_std values must be positive, got ",
             s);
  }
  if (c.arch == "explainer") patch_count(c.patch, c.input_size, c.input_size);
  MT_CHECK(c.arch != "cnn-small" || c.input_size >= 16, where,
           "cnn-small: input_size must be at least 16 (four 2x2 poolings), got ", c.input_size);
}

const char* const kConfigKeys[] = {"arch",       "width", "num_classes", "in_channels",
                                   "input_size", "patch", "norm_mean",   "norm_std"};

const std::string& get(const std::map<std::string, std::string>& m, const std::string& key,
                       const std::string& source) {
  auto it = m.find(key);
  MT_CHECK(it != m.end(), source, ": metadata has no '", key, "'");
  return it->second;
}

int get_int(const std::map<std::string, std::string>& m, const std::string& key,
            const std::string& source) {
  const std::string& s = get(m, key, source);
  size_t used = 0;
  long v = 0;
  try {
    v = std::stol(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  MT_CHECK(used == s.size() && !s.empty() && v >= -(1L << 30) && v <= (1L << 30), source,
           ": metadata '", key, "' is not an integer ('", s, "')");
  return int(v);
}

double get_double(const std::map<std::string, std::string>& m, const std::string& key,
                  const std::string& source) {
  const std::string& s = get(m, key, source);
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  MT_CHECK(used == s.size() && !s.empty(), source, ": metadata '", key, "' is not a number ('", s,
           "')");
  return v;
}

std::vector<double> get_list(const std::map<std::string, std::string>& m, const std::string& key,
                             const std::string& source) {
  const std::string& s = get(m, key, source);
  try {
    return nlohmann::json::parse(s).get<std::vector<double>>();
  } catch (const std::exception&) {
    fail(source, ": metadata '", key, "' is not a JSON list of numbers ('", s, "')");
  }
}

// Runs f; an Error it throws comes back with the file name in front.
template <class F>
void naming_file(const std::string& path, F&& f) {
  try {
    f();
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
}

}  // namespace

const std::vector<std::string>& known_architectures() {
  static const std::vector<std::string> names = {"resnet18", "cnn-small", "explainer"};
  return names;
}

std::shared_ptr<nn::Module> make_model(const ModelConfig& c, Generator& gen) {
  validate(c, "make_model: ");
  if (c.arch == "resnet18")
    return std::make_shared<ResNet18>(c.num_classes, c.width, gen, c.in_channels);
  if (c.arch == "cnn-small")
    return std::make_shared<CnnSmall>(c.num_classes, c.width, gen, c.in_channels);
  return std::make_shared<Explainer>(c.patch, c.width, gen, c.in_channels);
}

std::map<std::string, std::string> config_to_metadata(const ModelConfig& c) {
  // nlohmann::json prints doubles with the shortest text that reads back to
  // the same value, so a width survives the round trip exactly.
  return {{"arch", c.arch},
          {"width", nlohmann::json(c.width).dump()},
          {"num_classes", std::to_string(c.num_classes)},
          {"in_channels", std::to_string(c.in_channels)},
          {"input_size", std::to_string(c.input_size)},
          {"patch", std::to_string(c.patch)},
          {"norm_mean", nlohmann::json(c.norm_mean).dump()},
          {"norm_std", nlohmann::json(c.norm_std).dump()}};
}

ModelConfig config_from_metadata(const std::map<std::string, std::string>& m,
                                 const std::string& source) {
  MT_CHECK(m.count("arch"), source,
           ": no 'arch' in the metadata, so not a medtex model file (a bare state dict, such as "
           "one exported from PyTorch, loads with load_weights into a net built by make_model)");
  ModelConfig c;
  c.arch = get(m, "arch", source);
  c.width = get_double(m, "width", source);
  c.num_classes = get_int(m, "num_classes", source);
  c.in_channels = get_int(m, "in_channels", source);
  c.input_size = get_int(m, "input_size", source);
  c.patch = get_int(m, "patch", source);
  c.norm_mean = get_list(m, "norm_mean", source);
  c.norm_std = get_list(m, "norm_std", source);
  validate(c, source + ": ");
  return c;
}

void save_model(const std::string& path, const nn::Module& model, const ModelConfig& config,
                const std::map<std::string, std::string>& extra_metadata) {
  validate(config, "save_model " + path + ": ");
  auto metadata = config_to_metadata(config);
  for (const auto& [key, value] : extra_metadata) {
    for (const char* k : kConfigKeys) {
      MT_CHECK(key != k, "save_model ", path, ": extra metadata key '", key,
               "' clashes with the model config's");
    }
    metadata.emplace(key, value);
  }
  save_safetensors(path, model.state_dict(), metadata);
}

LoadedModel load_model(const std::string& path, const std::string& expect_arch) {
  SafetensorsFile file = load_safetensors(path);  // its errors already name the file
  LoadedModel out;
  out.config = config_from_metadata(file.metadata, path);
  MT_CHECK(expect_arch.empty() || out.config.arch == expect_arch, path, ": holds a '",
           out.config.arch, "' model where a '", expect_arch, "' model is expected");
  // The fresh initialisation is overwritten at once; its seed does not matter.
  Generator gen(0);
  out.model = make_model(out.config, gen);
  naming_file(path, [&] { out.model->load_state_dict(file.tensors); });
  out.metadata = std::move(file.metadata);
  return out;
}

void load_weights(const std::string& path, nn::Module& model) {
  SafetensorsFile file = load_safetensors(path);
  naming_file(path, [&] { model.load_state_dict(file.tensors); });
}

}  // namespace medtex::models
