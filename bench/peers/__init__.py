"""Serving benchmark of sluice against llama.cpp's and mlx-lm's servers (issue 6)."""
