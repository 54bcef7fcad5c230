// The engine's side of images: checking a request's images against the vision tower, and per
// step, the embeddings of the image tokens it runs (encoder cache first, then the encoder).
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
  const int64_t size = vision_->image_size(), tokens = vision_->tokens_per_image();
  int64_t end = 0;
  for (size_t i = 0; i < req.images.size(); ++i) {
    const ImageInput& im = req.images[i];
    const std::string where = "image " + std::to_string(i);
    if (im.offset < end || im.num_tokens != tokens ||
        int64_t{im.offset} + im.num_tokens > static_cast<int64_t>(req.prompt.size()))
      return E::invalid("images", where + ": its " + std::to_string(tokens) +
                                      " placeholder tokens must lie in the prompt, in order");
    if (im.height != size || im.width != size || !im.pixels)
      return E::invalid("images", where + ": the encoder takes [3, " + std::to_string(size) + ", " +
                                      std::to_string(size) + "] pixels");
    end = int64_t{im.offset} + im.num_tokens;
  }
  return std::nullopt;
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
  const int64_t size = vision_->image_size(), dim = vision_->embedding_dim();
  const int64_t tokens = vision_->tokens_per_image(), pixels = 3 * size * size;
  std::vector<float> batch_pixels, batch_out;
  for (size_t first = 0; first < missing.size(); first += kMaxImagesPerEncode) {
    const int64_t k = std::min<int64_t>(kMaxImagesPerEncode, missing.size() - first);
    batch_pixels.resize(k * pixels);  // [k, 3, size, size]
    for (int64_t j = 0; j < k; ++j) {
      const std::vector<float> px = missing[first + j]->pixels();
      SLUICE_ASSERT(static_cast<int64_t>(px.size()) == pixels, "an image's pixels fit its size");
      std::copy(px.begin(), px.end(), batch_pixels.begin() + j * pixels);
    }
    batch_out.resize(k * tokens * dim);  // [k, tokens, dim]
    vision_->encode(batch_pixels.data(), k, batch_out.data());
    for (int64_t j = 0; j < k; ++j) {
      auto e = std::make_shared<const std::vector<float>>(
          batch_out.begin() + j * tokens * dim, batch_out.begin() + (j + 1) * tokens * dim);
      const ImageKey key = key_of(*missing[first + j]);
      encoder_cache_->insert(key, e);
      found[key] = std::move(e);
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
        {p.row, p.to - p.from, e->data() + int64_t{p.from - p.image->offset} * dim});
    if (bidirectional)
      std::fill_n(b.attend_until.begin() + p.row, p.to - p.from,
                  p.image->offset + p.image->num_tokens - 1);
  }
}

}  // namespace sluice
