#include <filesystem>

#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"

namespace sluice {

namespace fs = std::filesystem;

Result<std::unique_ptr<Tokenizer>> load_tokenizer_for(const std::string& path) {
  std::error_code ec;
  const fs::path p(path);
  auto from_gguf = [](const std::string& file) -> Result<std::unique_ptr<Tokenizer>> {
    SLUICE_ASSIGN_OR_RETURN(auto gguf, GgufFile::open(file));
    return load_tokenizer_gguf(*gguf);
  };
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "tokenizer.json", ec))
      return load_tokenizer_json((p / "tokenizer.json").string());
    std::vector<fs::path> ggufs;
    for (const auto& e : fs::directory_iterator(p, ec)) {
      if (e.is_regular_file() && e.path().extension() == ".gguf") ggufs.push_back(e.path());
    }
    if (ggufs.size() == 1) return from_gguf(ggufs[0].string());
    if (ggufs.empty() && fs::exists(p / "vocab.txt", ec)) {
      return load_tokenizer_vocab_txt((p / "vocab.txt").string());
    }
    return Status::error("tokenizer",
                         path + ": directory has no tokenizer.json, no vocab.txt and " +
                             (ggufs.empty() ? std::string("no") : std::string("several")) +
                             " .gguf files");
  }
  if (!fs::exists(p, ec)) return Status::error("tokenizer", path + ": no such file or directory");
  if (p.extension() == ".gguf") return from_gguf(path);
  if (p.extension() == ".json") return load_tokenizer_json(path);
  if (p.extension() == ".txt") return load_tokenizer_vocab_txt(path);
  return Status::error("tokenizer", path +
                                        ": expected a .gguf file, a tokenizer.json, a vocab.txt "
                                        "or a directory");
}

}  // namespace sluice
