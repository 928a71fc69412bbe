// load_model on files that are valid safetensors but not a clbench model: every one a clb::Error
// naming the file and the tensor (framework/io/checkpoint.h).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "framework/core/error.h"
#include "framework/io/checkpoint.h"
#include "framework/io/safetensors.h"
#include "tests/common/scratch_dir.h"
#include "tests/common/test_helpers.h"

namespace clb {
namespace {

using test::error_of;

class CheckpointTest : public ::testing::Test {
 protected:
  test::ScratchDir scratch_{"ckpt"};
  const std::string path_ = (scratch_.path() / "m.safetensors").string();

  static NamedTensor tensor(const std::string& name, std::vector<int64_t> shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return {name, shape, std::vector<float>(size_t(n), 0.5f)};
  }
  // layers: (out, in) per layer index given.
  void write_layers(const std::vector<std::pair<int, std::pair<int, int>>>& layers, std::vector<NamedTensor> extra = {}) {
    TensorFile f;
    for (auto [l, shape] : layers) {
      f.tensors.push_back(tensor("layers." + std::to_string(l) + ".weight", {shape.first, shape.second}));
      f.tensors.push_back(tensor("layers." + std::to_string(l) + ".bias", {shape.first}));
    }
    for (auto& t : extra) f.tensors.push_back(std::move(t));
    write_safetensors(path_, f);
  }
};

TEST_F(CheckpointTest, ReadsAContiguousModel) {
  write_layers({{0, {8, 16}}, {1, {3, 8}}});
  EXPECT_EQ(load_model(path_).arch.str(), "16-8-3");
  const MlpArch want = MlpArch::parse("16-8-3");
  EXPECT_EQ(load_model(path_, &want).arch.str(), "16-8-3");
}

// layers.0 and layers.2 without layers.1: the loader stopped at the gap and returned a one-layer model.
TEST_F(CheckpointTest, AGapInTheLayersIsAnError) {
  write_layers({{0, {8, 16}}, {2, {3, 8}}});
  const std::string e = error_of([&] { load_model(path_); });
  EXPECT_NE(e.find(path_ + ": tensor 'layers.1.weight' is missing but the file has layers up to layers.2"),
            std::string::npos)
      << e;
  write_layers({{0, {8, 16}}, {1, {3, 8}}}, {tensor("layers.1.bias_extra", {3})});
  EXPECT_NE(error_of([&] { load_model(path_); }).find("tensor 'layers.1.bias_extra' is not a layer of an MLP"),
            std::string::npos);
  write_layers({{0, {8, 16}}}, {tensor("layers.1.weight", {3, 8})});
  EXPECT_NE(error_of([&] { load_model(path_); }).find("tensor 'layers.1.bias' is missing"), std::string::npos);
  write_layers({{0, {8, 16}}}, {tensor("layers.01.weight", {3, 8})});
  EXPECT_NE(error_of([&] { load_model(path_); }).find("tensor 'layers.01.weight' is not a layer"), std::string::npos);
}

TEST_F(CheckpointTest, AnotherArchThanExpectedNamesBoth) {
  write_layers({{0, {8, 16}}, {1, {3, 8}}});
  const MlpArch want = MlpArch::parse("16-9-3");
  try {
    load_model(path_, &want);
    ADD_FAILURE() << "expected an error";
  } catch (const SettingError& e) {
    EXPECT_EQ(std::string(e.what()),
              path_ + ": the model is 16-8-3 but arch 16-9-3 was given; give arch 16-8-3 or the model that matches");
  }
  // The file's own metadata must agree with its tensors.
  TensorFile f = read_safetensors(path_);
  f.metadata["arch"] = "16-4-3";
  write_safetensors(path_, f);
  EXPECT_NE(error_of([&] { load_model(path_); }).find("the metadata says arch 16-4-3 but the tensors make 16-8-3"),
            std::string::npos);
}

}  // namespace
}  // namespace clb
