// The engine's side of images (and Qwen2-VL video clips): checking a request's images against the
// vision tower, and per step, the embeddings of the image tokens it runs (encoder cache first,
// then the encoder).
#include <algorithm>
#include <unordered_map>

#include "common/assert.h"
#include "engine/engine.h"
#include "engine/engine_live.h"

namespace sluice {

namespace {

constexpr int64_t kMaxImagesPerEncode = 4;  // bounds the encoder's activation memory

struct KeyHash {
  size_t operator()(const ImageKey& k) const { return static_cast<size_t>(k.lo ^ (k.hi << 1)); }
};

ImageKey key_of(const ImageInput& im) {
  return {im.hash_lo, im.hash_hi};
}

}  // namespace

std::optional<RequestError> Engine::validate_images(const EngineRequest& req) const {
  using E = RequestError;
  if (req.images.empty()) return std::nullopt;
  if (!vision_)
    return E::invalid("images", "this model takes no images (it was loaded without --mmproj)");
  int64_t end = 0;
  for (size_t i = 0; i < req.images.size(); ++i) {
    const ImageInput& im = req.images[i];
    const std::string where = "image " + std::to_string(i);
    if (const std::string e = vision_->config().size_error(im.height, im.width); !e.empty())
      return E::invalid("images", where + ": " + e);
    if (!im.pixels) return E::invalid("images", where + ": no pixels");
    if (im.num_frames < 0 || (im.is_video() && !vision_->takes_video()))
      return E::invalid("images", where + ": this model's vision tower takes no video clips");
    if (im.is_video() && !(im.frame_interval_s > 0))
      return E::invalid("images", where + ": a video clip needs the time between its frames");
    const int64_t tokens = im.is_video()
                               ? vision_->tokens_for_video(im.num_frames, {im.height, im.width})
                               : vision_->tokens_for({im.height, im.width});
    if (im.offset < end || im.num_tokens != tokens ||
        int64_t{im.offset} + im.num_tokens > static_cast<int64_t>(req.prompt.size()))
      return E::invalid("images", where + ": its " + std::to_string(tokens) +
                                      " placeholder tokens must lie in the prompt, in order");
    end = int64_t{im.offset} + im.num_tokens;
  }
  return std::nullopt;
}

std::vector<ImageGrid> Engine::image_grids(const EngineRequest& req) const {
  std::vector<ImageGrid> grids;
  for (const ImageInput& im : req.images) grids.push_back(image_grid(im, vision_->config()));
  return grids;
}

void Engine::add_images(const SchedulerOutput& out, ForwardBatch& b,
                        std::vector<EncoderCache::Embeddings>& held) {
  // Each scheduled image range: [from, to) of the image's tokens, at step row `row`.
  struct Piece {
    const ImageInput* image;
    int32_t from, to;
    int64_t row;
  };
  std::vector<Piece> pieces;
  for (size_t i = 0; i < out.scheduled.size(); ++i) {
    const ScheduledSequence& s = out.scheduled[i];
    const Live& r = *static_cast<const Live*>(s.seq->owner);
    const int32_t c = s.seq->num_computed, e = c + s.num_new_tokens;
    for (const ImageInput& im : r.req.images) {
      const int32_t from = std::max(c, im.offset), to = std::min(e, im.offset + im.num_tokens);
      if (from < to) pieces.push_back({&im, from, to, b.query_start[i] + int64_t{from - c}});
    }
  }
  if (pieces.empty()) return;

  // Embeddings by content: cached, or encoded now (each distinct picture once).
  std::unordered_map<ImageKey, EncoderCache::Embeddings, KeyHash> found;
  std::vector<const ImageInput*> missing;
  for (const Piece& p : pieces) {
    const ImageKey key = key_of(*p.image);
    if (found.count(key)) continue;
    found[key] = encoder_cache_->find(key);
    if (!found[key]) missing.push_back(p.image);
  }
  const int64_t dim = vision_->embedding_dim();
  auto keep = [&](const ImageInput& im, EncoderCache::Embeddings e) {
    encoder_cache_->insert(key_of(im), e);
    found[key_of(im)] = std::move(e);
  };
  // Video clips one by one (the tower bounds its own batches of temporal patches).
  std::erase_if(missing, [&](const ImageInput* im) {
    if (!im->is_video()) return false;
    const std::vector<float> px = im->pixels();
    SLUICE_ASSERT(static_cast<int64_t>(px.size()) ==
                      int64_t{im->num_frames} * 3 * int64_t{im->height} * im->width,
                  "a clip's pixels fit its frames and size");
    auto e = std::make_shared<std::vector<float>>(static_cast<size_t>(im->num_tokens * dim));
    vision_->encode_video(px.data(), im->num_frames, {im->height, im->width}, e->data());
    keep(*im, std::move(e));
    ++totals_.images_encoded;
    return true;
  });
  std::vector<float> batch_pixels, batch_out;
  std::vector<ImageSize> sizes;
  for (size_t first = 0; first < missing.size(); first += kMaxImagesPerEncode) {
    const int64_t k = std::min<int64_t>(kMaxImagesPerEncode, missing.size() - first);
    batch_pixels.clear();  // image j [3, height_j, width_j], one after another
    sizes.clear();
    int64_t rows = 0;
    for (int64_t j = 0; j < k; ++j) {
      const ImageInput& im = *missing[first + j];
      const std::vector<float> px = im.pixels();
      SLUICE_ASSERT(static_cast<int64_t>(px.size()) == 3 * int64_t{im.height} * im.width,
                    "an image's pixels fit its size");
      batch_pixels.insert(batch_pixels.end(), px.begin(), px.end());
      sizes.push_back({im.height, im.width});
      rows += im.num_tokens;
    }
    batch_out.resize(rows * dim);  // [rows, dim]: each image's tokens in turn
    vision_->encode(batch_pixels.data(), sizes, batch_out.data());
    int64_t row = 0;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t n = missing[first + j]->num_tokens;
      auto e = std::make_shared<const std::vector<float>>(batch_out.begin() + row * dim,
                                                          batch_out.begin() + (row + n) * dim);
      row += n;
      keep(*missing[first + j], std::move(e));
    }
    totals_.images_encoded += k;
  }

  // Splices, and where image tokens attend to their whole image, their attention ends.
  // Gemma 3: an image's tokens attend to each other (transformers' token_type_ids mask; llama.cpp
  // decodes the image non-causally).
  const bool bidirectional = vision_->config().projector == ProjectorType::kGemma3;
  if (bidirectional) b.attend_until = b.positions;
  for (const Piece& p : pieces) {
    const EncoderCache::Embeddings& e = found.at(key_of(*p.image));
    held.push_back(e);
    b.splices.push_back(
        {p.row, p.to - p.from, e->data() + int64_t{p.from - p.image->offset} * dim, dim});
    if (bidirectional)
      std::fill_n(b.attend_until.begin() + p.row, p.to - p.from,
                  p.image->offset + p.image->num_tokens - 1);
  }
}

}  // namespace sluice
