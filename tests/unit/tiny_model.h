#pragma once
// The tiny synthetic model the engine and HTTP tests run on (MLX 4-bit, group 32, a 1.7k-token
// SentencePiece-style vocabulary, seed 5): written with make-model's writer to a temporary
// directory, loaded, and the directory removed. Tests that include it link sluice_convert.
// A GGUF format writes one file instead, with Qwen3's byte-level BPE tokenizer (from the shared
// test data: GGUF does not take the byte-fallback one).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "convert/model_writer.h"
#include "convert/synthetic_model.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace sluice::testing {

// arch: a make-model architecture ("llama"; "qwen3moe" for the mixture-of-experts paths);
// dtypes: the optional weight types the load picks; format: the files written.
inline Result<std::unique_ptr<Model>> load_tiny_model(const std::string& tag,
                                                      const std::string& arch = "llama",
                                                      OptionalDTypes dtypes = {},
                                                      OutputFormat format = OutputFormat::kMlx4) {
  namespace fs = std::filesystem;
  const std::string dir = (fs::temp_directory_path() /
                           ("sluice-" + tag + "-" + arch + "-" + std::to_string(::getpid())))
                              .string();
  WriteOptions w;
  w.format = format;
  w.group_size = 32;
  if (is_gguf_format(format)) {
    const char* testdata = std::getenv("SLUICE_TESTDATA");
    w.tokenizer_path = (testdata ? std::string(testdata)
                                 : std::string(SLUICE_SOURCE_DIR) + "/../shared/testdata") +
                       "/tokenizers/qwen3/tokenizer.json";
  } else {
    w.tokenizer_path = std::string(SLUICE_SOURCE_DIR) +
                       "/tests/reference/tokenizer/synthetic/spm_bytefallback/tokenizer.json";
  }
  SLUICE_ASSIGN_OR_RETURN(auto tok, load_tokenizer_json(w.tokenizer_path));
  SLUICE_ASSIGN_OR_RETURN(const ModelConfig c, preset_config("tiny", arch, tok->vocab_size()));
  SLUICE_RETURN_IF_ERROR(write_model(
      c, model_tensor_specs(c), [&](const TensorSpec& t) { return synthetic_tensor(t, c, 5); }, w,
      dir));
  auto model = Model::load(dir, dtypes);
  fs::remove_all(dir);
  return model;
}

}  // namespace sluice::testing
