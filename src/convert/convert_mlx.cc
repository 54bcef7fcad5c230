// GGUF -> mlx-lm directory: tensors by canonical name (Q/K rows back in HF order for llama's
// interleaved-RoPE layout), config.json from the GGUF metadata, HF tokenizer files.
#include "convert/convert_mlx.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "convert/gguf_to_hf_tokenizer.h"
#include "convert/mlx_tensor_convert.h"
#include "convert/model_writer.h"
#include "convert/synthetic_model.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "model/arch/arch_spec.h"
#include "model/load/weight_source.h"
#include "model/model_config.h"

namespace sluice {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Status write_json(const std::string& path, const json& j) {
  std::string text;
  try {
    text = j.dump(2);
  } catch (const json::exception& e) {
    return Status::error("convert", path + ": " + e.what());
  }
  std::ofstream f(path, std::ios::binary);
  f << text << "\n";
  if (!f.good()) return Status::error("convert", "cannot write " + path);
  return Status::ok();
}

// HF row order of q_proj / k_proj (weights and biases) under llama.cpp's Q/K permutation.
std::vector<int64_t> row_order_for(const ModelConfig& c, const std::string& name) {
  if (!c.rope_interleaved) return {};
  if (name.find("self_attn.q_proj.") != std::string::npos)
    return unpermute_rope_rows(c.num_heads, c.head_dim);
  if (name.find("self_attn.k_proj.") != std::string::npos)
    return unpermute_rope_rows(c.num_kv_heads, c.head_dim);
  return {};
}

std::string mapping_name(GgufType from, const MlxTensorResult& r) {
  const std::string to =
      r.bits ? "MLX " + std::to_string(r.bits) + "-bit g32 (" + r.dtype + " scales)" : r.dtype;
  return gguf_type_name(from) + " -> " + to + (r.exact ? "" : ", LOSSY");
}

// Most tensors' bits are the default; the others are named per module, as mlx-lm reads them.
json quantization_json(const std::map<std::string, int>& bits_of) {
  std::map<int, int64_t> count;
  for (const auto& [m, b] : bits_of) ++count[b];
  int common = 0;
  for (const auto& [b, n] : count)
    if (common == 0 || n > count[common]) common = b;
  json q = {{"group_size", 32}, {"bits", common}};
  for (const auto& [m, b] : bits_of)
    if (b != common) q[m] = {{"group_size", 32}, {"bits", b}};
  return q;
}

}  // namespace

Result<ConvertSummary> convert_gguf_to_mlx(const std::string& gguf_path, const std::string& out,
                                           const ConvertOptions& o) {
  SLUICE_ASSIGN_OR_RETURN(auto gguf, GgufFile::open(gguf_path));
  const GgufFile& g = *gguf;
  SLUICE_ASSIGN_OR_RETURN(const ModelConfig c, config_from_gguf(g));
  if (c.num_experts > 0 || c.arch->norms_offset_one)
    return Status::error("convert", gguf_path + ": converting " + c.arch->name +
                                        " models to MLX is not supported yet");
  if (g.tensor("rope_freqs.weight"))
    return Status::error("convert", gguf_path + ": rope_freqs.weight (Llama 3.1 RoPE scaling) " +
                                        "cannot be written to config.json yet");
  SLUICE_ASSIGN_OR_RETURN(const HfTokenizerFiles tok, hf_tokenizer_from_gguf(g));

  ConvertSummary summary;
  std::vector<SafetensorsWriteTensor> tensors;
  std::map<std::string, int> bits_of;          // module -> bits of its quantized weight
  std::map<std::string, int64_t> float_types;  // dtype -> tensors written as float
  std::set<std::string> used;
  for (const TensorSpec& spec : model_tensor_specs(c)) {
    const std::string gname = gguf_tensor_name(spec.name);
    const GgufTensorInfo* t = g.tensor(gname);
    if (!t) return Status::error("convert", gguf_path + ": missing tensor '" + gname + "'");
    used.insert(gname);
    const bool matrix =
        spec.kind == TensorSpec::Kind::kMatrix || spec.kind == TensorSpec::Kind::kEmbedding;
    const std::vector<int64_t> want =
        matrix ? std::vector<int64_t>{spec.cols, spec.rows} : std::vector<int64_t>{spec.cols};
    if (t->shape != want)
      return Status::error("convert", gguf_path + ": tensor '" + gname +
                                          "' does not have the shape the metadata implies");
    MlxTensorOptions to;
    to.float_dtype = o.float_dtype;
    to.allow_lossy = o.allow_lossy;
    to.quantized_matrix = matrix;
    to.row_order = row_order_for(c, spec.name);
    if (!matrix && !to.row_order.empty())  // no supported architecture has these
      return Status::error("convert", gguf_path + ": '" + gname + "': permuted Q/K biases");
    SLUICE_ASSIGN_OR_RETURN(const MlxTensorResult r,
                            gguf_tensor_to_mlx(*t, spec.name, spec.rows, spec.cols, to));
    ++summary.num_tensors;
    summary.num_exact += r.exact ? 1 : 0;
    ++summary.mappings[mapping_name(t->type, r)];
    if (r.rel_l2 >= summary.worst_rel_l2 && !r.exact) {
      summary.worst_rel_l2 = r.rel_l2;
      summary.worst_tensor = gname;
    }
    if (r.bits)
      bits_of[spec.name.substr(0, spec.name.rfind(".weight"))] = r.bits;
    else
      ++float_types[r.dtype];
    tensors.insert(tensors.end(), r.tensors.begin(), r.tensors.end());
  }
  for (const GgufTensorInfo& t : g.tensors())
    if (!used.count(t.name))
      std::fprintf(stderr, "warning: [convert] tensor '%s' is not part of the %s model; skipped\n",
                   t.name.c_str(), c.arch->name.c_str());

  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec || !fs::is_directory(out))
    return Status::error("convert", out + ": cannot create the directory");
  SLUICE_RETURN_IF_ERROR(
      write_safetensors(out + "/model.safetensors", tensors, {{"format", "mlx"}}));

  WriteOptions w;  // torch_dtype: the dtype most float tensors have
  w.float_dtype = "F16";
  int64_t best = 0;
  for (const auto& [dt, n] : float_types)
    if (n > best) best = n, w.float_dtype = dt;
  json cfg = hf_config_json(c, w);
  if (!bits_of.empty()) cfg["quantization"] = quantization_json(bits_of);
  if (tok.bos_id >= 0) cfg["bos_token_id"] = tok.bos_id;
  if (tok.eos_ids.size() == 1)
    cfg["eos_token_id"] = tok.eos_ids.front();
  else if (!tok.eos_ids.empty())
    cfg["eos_token_id"] = tok.eos_ids;
  SLUICE_RETURN_IF_ERROR(write_json(out + "/config.json", cfg));
  SLUICE_RETURN_IF_ERROR(write_json(out + "/tokenizer.json", tok.tokenizer));
  SLUICE_RETURN_IF_ERROR(write_json(out + "/tokenizer_config.json", tok.tokenizer_config));
  return summary;
}

}  // namespace sluice
