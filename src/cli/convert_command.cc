// `sluice convert`: write a GGUF model as an mlx-lm (MLX-quantized safetensors) directory with
// the same weights; prints what each tensor became and whether it is bit-exact.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "convert/convert_mlx.h"

namespace sluice {

namespace {

struct ConvertCliOptions {
  std::string in, out, dtype = "auto";
  bool allow_lossy = false;
};

int convert(const ConvertCliOptions& o) {
  std::error_code ec;
  if (!std::filesystem::exists(o.in, ec)) return fail("[convert] " + o.in + ": no such file");
  if (std::filesystem::is_directory(o.in, ec))
    return fail("[convert] " + o.in +
                " is a directory: only GGUF input is supported "
                "(GGUF -> MLX directory)");
  if (o.dtype != "auto" && o.dtype != "F16" && o.dtype != "BF16" && o.dtype != "F32")
    return fail("[convert] --dtype must be auto, F16, BF16 or F32");
  ConvertOptions c;
  c.float_dtype = o.dtype;
  c.allow_lossy = o.allow_lossy;
  auto s = convert_gguf_to_mlx(o.in, o.out, c);
  if (!s) return fail(s.error());
  for (const auto& [mapping, n] : s->mappings)
    std::fprintf(stderr, "  %4lld x %s\n", static_cast<long long>(n), mapping.c_str());
  if (s->num_exact == s->num_tensors) {
    std::fprintf(stderr, "wrote %s: all %lld tensors exact (dequantized values bit-identical)\n",
                 o.out.c_str(), static_cast<long long>(s->num_tensors));
  } else {
    std::fprintf(stderr,
                 "wrote %s: NOT lossless: %lld of %lld tensors changed; worst rel-L2 %.3e (%s)\n",
                 o.out.c_str(), static_cast<long long>(s->num_tensors - s->num_exact),
                 static_cast<long long>(s->num_tensors), s->worst_rel_l2, s->worst_tensor.c_str());
  }
  return 0;
}

}  // namespace

Command register_convert_command(CLI::App& app) {
  auto o = std::make_shared<ConvertCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "convert", "Write a GGUF model as an MLX-quantized (group 32) model directory for mlx-lm");
  cmd->add_option("-m,--model", o->in, "Input .gguf file")->required();
  cmd->add_option("-o,--out", o->out, "Output directory")->required();
  cmd->add_option("--dtype", o->dtype,
                  "Non-quantized tensors: auto (smallest exact of F16, BF16, F32), F16, BF16, F32")
      ->capture_default_str();
  cmd->add_flag("--allow-lossy", o->allow_lossy,
                "Requantize types with no exact MLX layout (K-quants) and accept rounding");
  return {cmd, [o] { return convert(*o); }};
}

}  // namespace sluice
