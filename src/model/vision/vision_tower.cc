#include "model/vision/vision_tower.h"

#include <algorithm>
#include <filesystem>

#include "common/assert.h"
#include "formats/gguf.h"
#include "model/vision/gemma3_projector.h"
#include "model/vision/gguf_mmproj_tensors.h"
#include "model/vision/hf_mmproj_tensors.h"
#include "model/vision/hf_vision_config.h"
#include "model/vision/patchify.h"
#include "model/vision/qwen2vl_batch.h"
#include "model/vision/qwen2vl_encoder.h"
#include "model/vision/qwen2vl_merger.h"
#include "model/vision/qwen3vl_positions.h"
#include "model/vision/siglip_encoder.h"

namespace sluice {
namespace {

VisionWeights place(Backend& be, const VisionWeights& src) {
  VisionWeights p;
  for (auto m :
       {&VisionWeights::patch_embed, &VisionWeights::patch_embed_video, &VisionWeights::patch_bias,
        &VisionWeights::position_embed, &VisionWeights::post_norm_w, &VisionWeights::post_norm_b,
        &VisionWeights::soft_emb_norm, &VisionWeights::input_projection, &VisionWeights::merger_fc1,
        &VisionWeights::merger_fc1_bias, &VisionWeights::merger_fc2,
        &VisionWeights::merger_fc2_bias, &VisionWeights::rope_freq_y, &VisionWeights::rope_freq_x})
    p.*m = be.place(src.*m);
  for (const VisionLayerWeights& L : src.layers) {
    VisionLayerWeights& P = p.layers.emplace_back();
    for (auto m : kVisionLayerWeights) P.*m = be.place(L.*m);
  }
  for (const DeepstackMergerWeights& d : src.deepstack) {
    DeepstackMergerWeights& P = p.deepstack.emplace_back();
    for (auto m : {&DeepstackMergerWeights::norm_w, &DeepstackMergerWeights::norm_b,
                   &DeepstackMergerWeights::fc1, &DeepstackMergerWeights::fc1_bias,
                   &DeepstackMergerWeights::fc2, &DeepstackMergerWeights::fc2_bias})
      P.*m = be.place(d.*m);
  }
  return p;
}

}  // namespace

VisionTower::VisionTower(Backend& be)
    : be_(be),
      patches_(be),
      x_(be),
      h_(be),
      q_(be),
      k_(be),
      v_(be),
      attn_(be),
      inter_(be),
      pooled_(be),
      out_(be),
      gate_(be),
      merged_(be),
      pos_embed_(be),
      query_start_(be),
      window_start_(be),
      pos_y_(be),
      pos_x_(be),
      out_rows_(be) {}

VisionTower::~VisionTower() = default;

Result<std::unique_ptr<VisionTower>> VisionTower::load(const std::string& path, Backend& be) {
  std::unique_ptr<VisionTower> t(new VisionTower(be));
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    SLUICE_ASSIGN_OR_RETURN(t->config_, read_hf_vision_config(path));
    SLUICE_ASSIGN_OR_RETURN(t->tensors_, HfMmprojTensors::open(path, t->config_));
  } else {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<GgufMmprojTensors> g, GgufMmprojTensors::open(path));
    SLUICE_ASSIGN_OR_RETURN(t->config_, read_vision_config(g->file()));
    t->tensors_ = std::move(g);
  }
  SLUICE_ASSIGN_OR_RETURN(VisionWeights host, load_vision_weights(*t->tensors_, t->config_));
  t->placed_ = place(be, host);
  if (t->config_.projector == ProjectorType::kQwen3VL) t->position_table_ = host.position_embed;
  return t;
}

void VisionTower::encode(const float* pixels, int64_t num_images, float* out) {
  if (num_images <= 0) return;
  if (config_.dynamic_resolution()) {
    const std::vector<ImageSize> sizes(static_cast<size_t>(num_images),
                                       {config_.image_size, config_.image_size});
    return encode_qwen2vl(qwen2vl_batch(config_, pixels, sizes), sizes, false, out);
  }
  encode_gemma3(pixels, num_images, out);
}

void VisionTower::encode(const float* pixels, std::span<const ImageSize> sizes, float* out) {
  if (sizes.empty()) return;
  for (const ImageSize& size : sizes)
    SLUICE_ASSERT(config_.size_error(size.height, size.width).empty(),
                  "an image size the encoder takes");
  if (config_.dynamic_resolution())
    return encode_qwen2vl(qwen2vl_batch(config_, pixels, sizes), sizes, false, out);
  encode_gemma3(pixels, static_cast<int64_t>(sizes.size()), out);
}

void VisionTower::encode_video(const float* frames, int64_t num_frames, const ImageSize& size,
                               float* out) {
  SLUICE_ASSERT(
      takes_video() && num_frames >= 1 && config_.size_error(size.height, size.width).empty(),
      "a video the encoder takes");
  const int64_t frame_floats = 3 * size.height * size.width;
  const int64_t patches = (num_frames + kFramesPerTemporalPatch - 1) / kFramesPerTemporalPatch;
  std::vector<float> padded;  // an odd count's last frame once more (the video processor's pad)
  if (num_frames % kFramesPerTemporalPatch != 0) {
    padded.assign(frames, frames + num_frames * frame_floats);
    padded.insert(padded.end(), frames + (num_frames - 1) * frame_floats,
                  frames + num_frames * frame_floats);
    frames = padded.data();
  }
  // Each temporal patch is a sequence of its own: a few at a time bound the activations.
  constexpr int64_t kPatchesPerCall = 4;
  const int64_t rows = tokens_for(size) * embedding_dim();  // floats out per temporal patch
  for (int64_t first = 0; first < patches; first += kPatchesPerCall) {
    const int64_t k = std::min(kPatchesPerCall, patches - first);
    const std::vector<ImageSize> sizes(static_cast<size_t>(k), size);
    encode_qwen2vl(qwen2vl_batch(config_, frames + first * kFramesPerTemporalPatch * frame_floats,
                                 sizes, kFramesPerTemporalPatch),
                   sizes, true, out + first * rows);
  }
}

void VisionTower::reserve_layer_buffers(VisionStepBuffers& s) {
  const VisionConfig& c = config_;
  const int64_t n = s.n;  // [n, width] rows of every encoder layer
  s.x = x_.reserve(n * c.hidden_size);
  s.h = h_.reserve(n * c.hidden_size);
  s.q = q_.reserve(n * c.q_dim());
  s.k = k_.reserve(n * c.q_dim());
  s.v = v_.reserve(n * c.q_dim());
  s.attn = attn_.reserve(n * c.q_dim());
  s.inter = inter_.reserve(n * c.intermediate_size);
}

void VisionTower::encode_gemma3(const float* pixels, int64_t num_images, float* out) {
  const VisionConfig& c = config_;
  const int64_t patches = c.num_patches(), n = num_images * patches;
  const int64_t patch_cols = 3 * c.patch_size * c.patch_size;
  const int64_t image_floats = 3 * c.image_size * c.image_size;
  const int64_t m = num_images * c.tokens_per_image();
  patches_host_.resize(static_cast<size_t>(n * patch_cols));
  for (int64_t i = 0; i < num_images; ++i)
    patchify(pixels + i * image_floats, c.image_size, c.patch_size,
             patches_host_.data() + i * patches * patch_cols);
  std::vector<int32_t> query_start;
  for (int64_t i = 0; i <= num_images; ++i)
    query_start.push_back(static_cast<int32_t>(i * patches));

  VisionStepBuffers s;
  s.num_images = num_images;
  s.n = n;
  s.m = m;
  s.seqs =
      SequenceBatch{num_images, n, patches, query_start_.upload(query_start), query_start.data()};
  s.patches = patches_.upload(patches_host_);
  reserve_layer_buffers(s);
  s.pooled = pooled_.reserve(m * c.hidden_size);
  s.out = out_.reserve(m * c.projection_dim);
  const VisionContext ctx{be_, c, placed_, s};
  siglip_encode(ctx);
  gemma3_project(ctx);
  be_.to_host(out, s.out, static_cast<size_t>(m * c.projection_dim) * sizeof(float));
}

// Qwen3-VL: the learned positions of every patch row, image by image.
std::vector<float> VisionTower::position_rows(const Qwen2vlBatch& b,
                                              std::span<const ImageSize> sizes) const {
  const VisionConfig& c = config_;
  std::vector<float> rows(b.pos_y.size() * static_cast<size_t>(c.hidden_size));
  const float* table = reinterpret_cast<const float*>(position_table_.data);
  for (size_t i = 0; i < sizes.size(); ++i) {
    const int64_t first = b.image_start[i], count = b.image_start[i + 1] - first;
    qwen3vl_position_rows(table, c.position_grid, c.hidden_size, sizes[i].height / c.patch_size,
                          sizes[i].width / c.patch_size, b.pos_y.data() + first,
                          b.pos_x.data() + first, count, rows.data() + first * c.hidden_size);
  }
  return rows;
}

void VisionTower::encode_qwen2vl(const Qwen2vlBatch& b, std::span<const ImageSize> sizes,
                                 bool video, float* out) {
  const VisionConfig& c = config_;
  const int64_t n = static_cast<int64_t>(b.pos_y.size());
  const int64_t m = static_cast<int64_t>(b.token_rows.size());
  const int64_t num_windows = static_cast<int64_t>(b.window_start.size()) - 1;
  const int64_t blocks = 1 + c.num_deepstack();  // merger outputs per token
  // Row t * blocks + k of the output [m * blocks, projection_dim] is token t's row of block k.
  std::vector<int32_t> out_rows(static_cast<size_t>(m * blocks));
  for (int64_t t = 0; t < m; ++t)
    for (int64_t k = 0; k < blocks; ++k)
      out_rows[static_cast<size_t>(t * blocks + k)] =
          static_cast<int32_t>(k * m + b.token_rows[static_cast<size_t>(t)]);
  VisionStepBuffers s;
  s.num_images = static_cast<int64_t>(sizes.size());
  s.n = n;
  s.m = m;
  s.seqs = SequenceBatch{s.num_images, n, b.max_image_rows, query_start_.upload(b.image_start),
                         b.image_start.data()};
  s.windows = SequenceBatch{num_windows, n, b.max_window_rows, window_start_.upload(b.window_start),
                            b.window_start.data()};
  s.pos_y = pos_y_.upload(b.pos_y);
  s.pos_x = pos_x_.upload(b.pos_x);
  s.out_rows = out_rows_.upload(out_rows);
  s.patches = patches_.upload(b.patches);
  s.video = video;
  if (c.projector == ProjectorType::kQwen3VL)
    s.pos_embed = pos_embed_.upload(position_rows(b, sizes));
  reserve_layer_buffers(s);
  s.gate = gate_.reserve(n * c.intermediate_size);
  s.pooled = pooled_.reserve(m * placed_.merger_fc1.cols);
  s.merged = merged_.reserve(blocks * m * c.projection_dim);
  s.out = out_.reserve(m * c.token_width());
  const VisionContext ctx{be_, c, placed_, s};
  qwen2vl_encode(ctx);
  qwen2vl_merge(ctx);
  be_.to_host(out, s.out, static_cast<size_t>(m * c.token_width()) * sizeof(float));
}

}  // namespace sluice
