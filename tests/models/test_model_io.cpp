#include <filesystem>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "engine/safetensors.h"
#include "models/cnn_small.h"
#include "models/explainer.h"
#include "models/model_io.h"
#include "models/resnet18.h"
#include "tests/support/compare.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("medtex_model_io_" + name)).string();
}

models::ModelConfig config(const std::string& arch, double width) {
  models::ModelConfig c;
  c.arch = arch;
  c.width = width;
  c.num_classes = 4;
  c.input_size = 32;
  c.patch = 4;
  return c;
}

bool same_state(const nn::Module& a, const nn::Module& b) {
  const auto sa = a.state_dict(), sb = b.state_dict();
  if (sa.size() != sb.size()) return false;
  for (const auto& [name, t] : sa) {
    if (!sb.count(name) || !test::bitwise_equal(t, sb.at(name))) return false;
  }
  return true;
}

TEST(ModelIo, MakeModelBuildsEachArchitecture) {
  Generator gen(1);
  auto r = models::make_model(config("resnet18", 0.125), gen);
  EXPECT_NE(dynamic_cast<models::ResNet18*>(r.get()), nullptr);
  auto s = models::make_model(config("cnn-small", 0.5), gen);
  EXPECT_NE(dynamic_cast<models::CnnSmall*>(s.get()), nullptr);
  auto e = models::make_model(config("explainer", 0.5), gen);
  ASSERT_NE(dynamic_cast<models::Explainer*>(e.get()), nullptr);
  EXPECT_EQ(dynamic_cast<models::Explainer*>(e.get())->patch(), 4);
  EXPECT_EQ(e->forward(test::random_float({2, 3, 32, 32}, 1)).shape(), (Shape{2, 64}));
  EXPECT_EQ(models::known_architectures().size(), 3u);
}

TEST(ModelIo, BadConfigsFailWithOneClearLine) {
  Generator gen(2);
  auto c = config("vgg16", 1.0);
  const std::string msg = error_of([&] { models::make_model(c, gen); });
  EXPECT_NE(msg.find("unknown architecture 'vgg16'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cnn-small"), std::string::npos) << msg;  // lists the known ones
  c = config("explainer", 1.0);
  c.input_size = 60;
  c.patch = 8;
  EXPECT_THROW(models::make_model(c, gen), Error);
  c.input_size = 64;
  c.patch = 6;
  EXPECT_THROW(models::make_model(c, gen), Error);
  c = config("cnn-small", 0.0);
  EXPECT_THROW(models::make_model(c, gen), Error);
  c = config("cnn-small", 1.0);
  c.norm_mean = {0.5, 0.5};
  c.norm_std = {0.25, 0.25};
  EXPECT_NE(error_of([&] { models::make_model(c, gen); }).find("in_channels"), std::string::npos);
}

// Save and load each architecture: the same config, the same bytes in every
// parameter and buffer (running statistics moved off their defaults first),
// the same logits, and the caller's extra metadata.
TEST(ModelIo, RoundTripEveryArchitecture) {
  for (const auto& [arch, width] : std::vector<std::pair<std::string, double>>{
           {"resnet18", 0.1}, {"cnn-small", 0.3}, {"explainer", 0.7}}) {
    Generator gen(3);
    auto c = config(arch, width);
    c.norm_mean = {0.485, 0.456, 0.406};
    c.norm_std = {0.229, 0.224, 0.225};
    auto net = models::make_model(c, gen);
    const Tensor x = test::random_float({3, 3, 32, 32}, 4);
    net->forward(x);  // train mode: BatchNorm running statistics move
    const std::string path = temp_path(arch + ".safetensors");
    models::save_model(path, *net, c, {{"run.seed", "3"}, {"note", "round trip"}});
    const models::LoadedModel loaded = models::load_model(path, arch);
    std::filesystem::remove(path);

    EXPECT_EQ(loaded.config.arch, arch);
    EXPECT_EQ(loaded.config.width, width);  // exactly: 0.1, 0.3, 0.7 are not binary fractions
    EXPECT_EQ(loaded.config.num_classes, 4);
    EXPECT_EQ(loaded.config.in_channels, 3);
    EXPECT_EQ(loaded.config.input_size, 32);
    EXPECT_EQ(loaded.config.patch, 4);
    EXPECT_EQ(loaded.config.norm_mean, c.norm_mean);
    EXPECT_EQ(loaded.config.norm_std, c.norm_std);
    EXPECT_EQ(loaded.metadata.at("run.seed"), "3");
    EXPECT_EQ(loaded.metadata.at("note"), "round trip");
    EXPECT_EQ(loaded.metadata.at("arch"), arch);
    EXPECT_TRUE(same_state(*net, *loaded.model)) << arch;

    net->eval();
    loaded.model->eval();
    NoGradGuard no_grad;
    EXPECT_TRUE(test::bitwise_equal(net->forward(x), loaded.model->forward(x))) << arch;
  }
}

TEST(ModelIo, ExtraMetadataMayNotOverrideTheConfig) {
  Generator gen(4);
  auto c = config("cnn-small", 0.25);
  auto net = models::make_model(c, gen);
  const std::string path = temp_path("clash.safetensors");
  EXPECT_NE(error_of([&] {
              models::save_model(path, *net, c, {{"arch", "resnet18"}});
            }).find("clashes"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path));
}

// Weights of one width loaded into a net of another: the error names the
// file, the first mismatching tensor and both shapes, and the net is unchanged.
TEST(ModelIo, WrongArchitectureNamesFileTensorAndShapes) {
  Generator gen(5);
  auto wide = models::make_model(config("cnn-small", 0.5), gen);
  auto narrow = models::make_model(config("cnn-small", 0.25), gen);
  const std::string path = temp_path("wide.safetensors");
  models::save_model(path, *wide, config("cnn-small", 0.5));
  const auto before = narrow->state_dict().at("conv1.weight").copy();
  const std::string msg = error_of([&] { models::load_weights(path, *narrow); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  // bn1.bias is the first name in sorted order whose shape differs.
  EXPECT_NE(msg.find("'bn1.bias'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[8] in the file"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[4] in the model"), std::string::npos) << msg;
  EXPECT_TRUE(test::bitwise_equal(before, narrow->state_dict().at("conv1.weight")));

  // A file whose metadata claims resnet18 but holds cnn-small tensors.
  save_safetensors(path, wide->state_dict(), models::config_to_metadata(config("resnet18", 0.5)));
  const std::string msg2 = error_of([&] { models::load_model(path); });
  EXPECT_NE(msg2.find(path), std::string::npos) << msg2;
  EXPECT_NE(msg2.find("bn1.bias"), std::string::npos) << msg2;
  EXPECT_NE(msg2.find("[8] in the file but [32] in the model"), std::string::npos) << msg2;

  // A good file for another model than the caller wants.
  models::save_model(path, *wide, config("cnn-small", 0.5));
  const std::string msg3 = error_of([&] { models::load_model(path, "resnet18"); });
  EXPECT_NE(msg3.find("'cnn-small' model where a 'resnet18' model is expected"), std::string::npos)
      << msg3;
  std::filesystem::remove(path);
}

TEST(ModelIo, TruncatedFileFailsWithOneLine) {
  Generator gen(6);
  auto c = config("explainer", 1.0);
  auto net = models::make_model(c, gen);
  const std::string path = temp_path("truncated.safetensors");
  models::save_model(path, *net, c);
  const auto size = std::filesystem::file_size(path);
  for (uintmax_t keep : {uintmax_t(4), uintmax_t(100), size / 2, size - 1}) {
    std::filesystem::resize_file(path, keep);
    const std::string msg = error_of([&] { models::load_model(path); });
    EXPECT_NE(msg.find(path), std::string::npos) << keep << ": " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_FALSE(msg.empty()) << keep;
  }
  std::filesystem::remove(path);
  EXPECT_NE(error_of([&] { models::load_model(path); }).find("cannot open"), std::string::npos);
}

// A bare state dict, as exported from PyTorch, has no architecture metadata:
// load_model says so; load_weights loads it into a net built by make_model.
TEST(ModelIo, BareStateDictLoadsWithLoadWeights) {
  Generator gen(7);
  auto c = config("resnet18", 0.0625);
  auto src = models::make_model(c, gen);
  auto dst = models::make_model(c, gen);
  const std::string path = temp_path("bare.safetensors");
  save_safetensors(path, src->state_dict());
  EXPECT_NE(error_of([&] { models::load_model(path); }).find("no 'arch' in the metadata"),
            std::string::npos);
  EXPECT_FALSE(same_state(*src, *dst));
  models::load_weights(path, *dst);
  EXPECT_TRUE(same_state(*src, *dst));
  std::filesystem::remove(path);
}

TEST(ModelIo, MalformedMetadataNamesTheKey) {
  auto meta = models::config_to_metadata(config("cnn-small", 0.5));
  EXPECT_NO_THROW(models::config_from_metadata(meta, "f"));
  auto bad = meta;
  bad["width"] = "half";
  EXPECT_NE(error_of([&] {
              models::config_from_metadata(bad, "f.safetensors");
            }).find("f.safetensors: metadata 'width' is not a number ('half')"),
            std::string::npos);
  bad = meta;
  bad["num_classes"] = "5x";
  EXPECT_THROW(models::config_from_metadata(bad, "f"), Error);
  bad = meta;
  bad.erase("patch");
  EXPECT_NE(error_of([&] { models::config_from_metadata(bad, "f"); }).find("no 'patch'"),
            std::string::npos);
  bad = meta;
  bad["norm_mean"] = "[0.5,";
  EXPECT_THROW(models::config_from_metadata(bad, "f"), Error);
  bad = meta;
  bad["arch"] = "resnet50";
  EXPECT_THROW(models::config_from_metadata(bad, "f"), Error);
}

}  // namespace
}  // namespace medtex
