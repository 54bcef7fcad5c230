#include "cli/embedding_prompt.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "cli/single_sequence.h"
#include "engine/mrope_positions.h"

namespace sluice {

namespace {

Result<std::vector<float>> read_rows(const EmbeddedImage& im, int64_t width) {
  const int64_t want = int64_t{im.rows} * im.cols * width;
  FILE* f = std::fopen(im.path.c_str(), "rb");
  if (!f) return Status::error("logits", "cannot read " + im.path);
  std::vector<float> v(want + 1);
  const size_t got = std::fread(v.data(), sizeof(float), v.size(), f);
  std::fclose(f);
  if (static_cast<int64_t>(got) != want)
    return Status::error("logits", im.path + " holds " + std::to_string(got) + " floats; a " +
                                       std::to_string(im.rows) + "x" + std::to_string(im.cols) +
                                       " image of rows of " + std::to_string(width) + " needs " +
                                       std::to_string(want));
  v.resize(want);
  return v;
}

}  // namespace

Result<std::vector<float>> logits_with_embeddings(const Model& model, Backend& backend,
                                                  const std::vector<std::string>& words,
                                                  const std::vector<EmbeddedImage>& images,
                                                  int64_t chunk) {
  const ModelConfig& c = model.config();
  if (!c.mrope()) return Status::error("logits", "--image-embeddings needs an M-RoPE model");
  const int64_t W = c.image_embedding_width();
  std::vector<int32_t> tokens;
  std::vector<ImageGrid> grids;
  std::vector<std::vector<float>> rows;  // image i [rows * cols, W]
  for (const std::string& w : words) {
    if (w != "<image>") {
      tokens.push_back(static_cast<int32_t>(std::stol(w)));
      continue;
    }
    if (grids.size() == images.size())
      return Status::error("logits", "more <image> words than --image-embeddings files");
    const EmbeddedImage& im = images[grids.size()];
    if (im.rows <= 0 || im.cols <= 0) return Status::error("logits", "an empty --image-grid");
    SLUICE_ASSIGN_OR_RETURN(std::vector<float> r, read_rows(im, W));
    rows.push_back(std::move(r));
    grids.push_back({static_cast<int32_t>(tokens.size()), im.rows, im.cols});
    tokens.insert(tokens.end(), int64_t{im.rows} * im.cols, 0);  // rows replace token 0's
  }
  if (grids.size() != images.size())
    return Status::error("logits", "fewer <image> words than --image-embeddings files");
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (chunk <= 0) chunk = n;
  SingleSequence seq(model, backend, n);
  std::span<const float> last;
  for (int64_t b = 0; b < n; b += chunk) {
    const int64_t e = std::min(n, b + chunk);
    std::array<std::vector<int32_t>, 4> planes;
    append_mrope_positions(grids, static_cast<int32_t>(b), static_cast<int32_t>(e), planes);
    std::vector<int32_t> rope;  // [4, e - b]
    for (const auto& p : planes) rope.insert(rope.end(), p.begin(), p.end());
    std::vector<EmbeddingSplice> splices;
    for (size_t i = 0; i < grids.size(); ++i) {
      const int64_t off = grids[i].offset, end = off + int64_t{grids[i].rows} * grids[i].cols;
      const int64_t from = std::max(b, off), to = std::min(e, end);
      if (from < to) splices.push_back({from - b, to - from, rows[i].data() + (from - off) * W, W});
    }
    last = seq.feed(std::vector<int32_t>(tokens.begin() + b, tokens.begin() + e), std::move(rope),
                    std::move(splices));
  }
  return std::vector<float>(last.begin(), last.end());
}

}  // namespace sluice
