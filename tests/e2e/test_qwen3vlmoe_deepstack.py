"""Qwen3-VL MoE's language model with images: test_qwen3vl_deepstack.py's checks on a
`qwen3vlmoe` file written by llama.cpp's `gguf` package, whose router stays F32 as the converter
keeps it. (make-model's gguf-f16 writes the router F16: llama.cpp then rounds the router's input
to f16 and near-tied random image rows pick other experts, 9.6e-2 apart; F32 router: 3e-4.)
"""
from __future__ import annotations

from test_qwen3vl_deepstack import check_images, image_args  # noqa: F401  (a fixture)


def test_deepstack_images_moe_vs_llama_cpp(gguf_py_model, sluice, reference, record, image_args,
                                           tmp_path):
    check_images("qwen3vlmoe", gguf_py_model("qwen3vlmoe"), sluice, reference, record,
                 image_args, tmp_path)
