"""A small, fast GGUF reader/rewriter for tests (the `gguf` package's reader takes ~20 s on a file
with a 150k-token vocabulary; this one reads only what is asked and keeps byte offsets).

    f = GgufLite(path)          # header, metadata (arrays of strings kept as lists), tensor infos
    f.tensors[name]             # TensorInfo(name, shape (ggml order), type, offset, nbytes, ...)
    f.array(name)               # numpy array, dequantized with the `gguf` package
    rewrite(src, dst, drop=..., shapes=..., types=..., version=...)  # copy with edits

Offsets kept for malformed-file tests: `kv_start`, `tensor_infos_start`, `data_start`.
"""
from __future__ import annotations

import dataclasses
import struct

import numpy as np

GGUF_MAGIC = b"GGUF"
# Metadata value types (GGUF spec).
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
_SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
           BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}


@dataclasses.dataclass
class TensorInfo:
    name: str
    shape: list  # ggml order: shape[0] innermost
    type: int
    offset: int  # from the start of the data section
    nbytes: int
    info_start: int  # byte offset of this tensor's info record in the file
    info_end: int


# (elements, bytes) per block of the types read without the `gguf` package (F32, F16, Q8_0, BF16):
# machines without it (the GPU machine) can still read float and Q8_0 files.
_PLAIN_BLOCKS = {0: (1, 4), 1: (1, 2), 8: (32, 34), 30: (1, 2)}


def type_nbytes(ggml_type: int, shape) -> int:
    try:
        from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

        block, size = GGML_QUANT_SIZES[GGMLQuantizationType(ggml_type)]
    except ImportError:
        block, size = _PLAIN_BLOCKS[ggml_type]
    n = int(np.prod(shape))
    return n // block * size


def _dequantize_plain(raw: np.ndarray, ggml_type: int) -> np.ndarray:
    """F32, F16, BF16 and Q8_0 (f16 scale + 32 int8 codes per block) with numpy alone."""
    if ggml_type == 0:
        return raw.view(np.float32)
    if ggml_type == 1:
        return raw.view(np.float16).astype(np.float32)
    if ggml_type == 30:
        return (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
    blocks = raw.reshape(-1, 34)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    return (d * blocks[:, 2:].view(np.int8).astype(np.float32)).reshape(-1)


class _Cursor:
    def __init__(self, buf, pos=0):
        self.buf, self.pos = buf, pos

    def unpack(self, fmt):
        v = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return v[0]

    def string(self):
        n = self.unpack("<Q")
        s = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return s.decode("utf-8", errors="replace")

    def value(self, vtype):
        if vtype == STRING:
            return self.string()
        if vtype == ARRAY:
            etype, n = self.unpack("<I"), self.unpack("<Q")
            if etype in _SCALAR:  # numeric arrays: one numpy read
                dt = np.dtype(_SCALAR[etype])
                a = np.frombuffer(self.buf, dtype=dt, count=n, offset=self.pos)
                self.pos += n * dt.itemsize
                return a.tolist()
            return [self.value(etype) for _ in range(n)]
        return self.unpack(_SCALAR[vtype])


class GgufLite:
    def __init__(self, path: str):
        self.path = path
        with open(path, "rb") as f:
            self.buf = f.read()
        c = _Cursor(self.buf)
        if self.buf[:4] != GGUF_MAGIC:
            raise ValueError("bad magic")
        c.pos = 4
        self.version = c.unpack("<I")
        n_tensors, n_kv = c.unpack("<Q"), c.unpack("<Q")
        self.kv_start = c.pos
        self.metadata, self.kv_types, self.kv_spans = {}, {}, {}
        for _ in range(n_kv):
            start = c.pos
            key = c.string()
            vtype = c.unpack("<I")
            self.metadata[key] = c.value(vtype)
            self.kv_types[key] = vtype
            self.kv_spans[key] = (start, c.pos)
        self.tensor_infos_start = c.pos
        self.tensors = {}
        for _ in range(n_tensors):
            start = c.pos
            name = c.string()
            nd = c.unpack("<I")
            shape = [c.unpack("<Q") for _ in range(nd)]
            ttype = c.unpack("<I")
            off = c.unpack("<Q")
            self.tensors[name] = TensorInfo(name, shape, ttype, off, type_nbytes(ttype, shape), start, c.pos)
        self.tensor_infos_end = c.pos
        self.alignment = int(self.metadata.get("general.alignment", 32))
        self.data_start = (c.pos + self.alignment - 1) // self.alignment * self.alignment

    def raw(self, name: str) -> bytes:
        t = self.tensors[name]
        s = self.data_start + t.offset
        return self.buf[s:s + t.nbytes]

    def array(self, name: str) -> np.ndarray:
        """Dequantized float32 array in numpy order (outermost first)."""
        t = self.tensors[name]
        raw = np.frombuffer(self.raw(name), dtype=np.uint8)
        if t.type in _PLAIN_BLOCKS:
            a = _dequantize_plain(raw, t.type)
        else:
            from gguf.constants import GGMLQuantizationType
            from gguf.quants import dequantize

            a = dequantize(raw, GGMLQuantizationType(t.type))
        return a.astype(np.float32).reshape(list(reversed(t.shape)))


def _str(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def rewrite(src: str, dst: str, drop=(), shapes=None, types=None, version=None) -> None:
    """Copies a GGUF with edits: tensors in `drop` removed, `shapes[name]` / `types[name]` written
    into a tensor's info (data bytes unchanged, so the edit is a lie the loader must catch),
    `version` in the header. Metadata bytes are copied verbatim; data is re-laid out aligned."""
    f = GgufLite(src)
    shapes, types = shapes or {}, types or {}
    keep = [t for n, t in f.tensors.items() if n not in drop]
    infos, blobs, off = [], [], 0
    for t in keep:
        data = f.raw(t.name)
        shape, ttype = shapes.get(t.name, t.shape), types.get(t.name, t.type)
        infos.append(_str(t.name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", d) for d in shape)
                     + struct.pack("<IQ", ttype, off))
        pad = (-len(data)) % f.alignment
        blobs.append(data + b"\0" * pad)
        off += len(data) + pad
    head = GGUF_MAGIC + struct.pack("<IQQ", f.version if version is None else version, len(keep), len(f.metadata))
    body = head + f.buf[f.kv_start:f.tensor_infos_start] + b"".join(infos)
    body += b"\0" * ((-len(body)) % f.alignment)
    with open(dst, "wb") as out:
        out.write(body)
        for b in blobs:
            out.write(b)
