// The models `serve` offers from its flags: NAME=PATH, --models-dir naming (file stems, folders),
// projectors attached and never listed, and the errors (duplicate names, per-model flags with
// several models). And --profile expansion: explicit flags win.
#include "cli/model_catalog.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli/serve_profiles.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

class Dir {
 public:
  Dir()
      : path_(fs::temp_directory_path() /
              ("catalog-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++))) {
    fs::create_directories(path_);
  }
  ~Dir() { fs::remove_all(path_); }
  std::string file(const std::string& rel, size_t bytes = 10) {
    fs::create_directories((path_ / rel).parent_path());
    std::ofstream(path_ / rel) << std::string(bytes, 'x');
    return (path_ / rel).string();
  }
  std::string str() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

TEST(ModelCatalog, NamesFilesAndFoldersAndAttachesProjectors) {
  Dir d;
  d.file("b-model.gguf", 100);
  d.file("mmproj-b-model.gguf", 7);
  d.file("a.gguf");
  d.file("a.mmproj.gguf");
  d.file("folder/weights-q4.gguf");
  d.file("folder/mmproj-f16.gguf");
  d.file("hf/config.json");
  d.file("hf/model.safetensors", 50);
  d.file("notes.txt");
  d.file("empty/readme.md");
  auto specs = scan_models_dir(d.str());
  ASSERT_TRUE(specs) << specs.error();
  ASSERT_EQ(specs->size(), 4u);
  EXPECT_EQ((*specs)[0].id, "a");
  EXPECT_EQ(fs::path((*specs)[0].mmproj).filename(), "a.mmproj.gguf");
  EXPECT_EQ((*specs)[1].id, "b-model");
  EXPECT_EQ(fs::path((*specs)[1].mmproj).filename(), "mmproj-b-model.gguf");
  EXPECT_EQ((*specs)[1].bytes, 107);  // the model and its projector
  EXPECT_EQ((*specs)[2].id, "folder");
  EXPECT_EQ(fs::path((*specs)[2].path).filename(), "weights-q4.gguf");
  EXPECT_EQ(fs::path((*specs)[2].mmproj).filename(), "mmproj-f16.gguf");
  EXPECT_EQ((*specs)[3].id, "hf");
  EXPECT_EQ((*specs)[3].path, d.str() + "/hf");
  EXPECT_GE((*specs)[3].bytes, 60);
}

TEST(ModelCatalog, AFolderWithTwoModelsIsAnError) {
  Dir d;
  d.file("two/a.gguf");
  d.file("two/b.gguf");
  auto specs = scan_models_dir(d.str());
  ASSERT_FALSE(specs);
  EXPECT_NE(specs.error().find("holds 2 GGUF models"), std::string::npos) << specs.error();
}

TEST(ModelCatalog, FlagsNameModelsAndRefuseAmbiguity) {
  Dir d;
  const std::string a = d.file("a.gguf"), b = d.file("b.gguf");
  auto one = model_catalog({.models = {a}, .served_model_name = "gpt", .mmproj = b});
  ASSERT_TRUE(one) << one.error();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].id, "gpt");
  EXPECT_EQ((*one)[0].mmproj, b);

  auto two = model_catalog({.models = {"x=" + a, "y=" + b}});
  ASSERT_TRUE(two) << two.error();
  EXPECT_EQ((*two)[0].id, "x");
  EXPECT_EQ((*two)[1].path, b);

  EXPECT_FALSE(model_catalog({.models = {"x=" + a, "x=" + b}}));
  EXPECT_FALSE(model_catalog({.models = {a, "a=" + b}}));  // both named "a"
  EXPECT_FALSE(model_catalog({.models = {a, b}, .served_model_name = "gpt"}));
  EXPECT_FALSE(model_catalog({.models = {a, b}, .mmproj = b}));
  EXPECT_FALSE(model_catalog({.models_dir = d.str() + "/missing"}));
  Dir empty;
  EXPECT_FALSE(model_catalog({.models_dir = empty.str()}));
}

TEST(ServeProfiles, ExplicitFlagsWinAndUnknownProfilesAreErrors) {
  auto args = apply_serve_profile({"serve", "--kv-cache-memory=1GiB", "--profile", "agent"});
  ASSERT_TRUE(args) << args.error();
  const std::vector<std::string>& a = *args;
  EXPECT_EQ(std::count(a.begin(), a.end(), "--kv-cache-memory"), 0);  // given as --x=1GiB
  auto at = std::find(a.begin(), a.end(), "--max-num-batched-tokens");
  ASSERT_NE(at, a.end());
  EXPECT_EQ(*(at + 1), "2048");
  auto plain = apply_serve_profile({"serve", "-m", "x.gguf"});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->size(), 3u);
  EXPECT_FALSE(apply_serve_profile({"serve", "--profile", "nope"}));
  for (const ServeProfile& p : serve_profiles()) EXPECT_FALSE(p.args.empty()) << p.name;
}

}  // namespace
}  // namespace sluice
