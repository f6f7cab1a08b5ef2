#!/usr/bin/env python3
"""Independent check of CnnGen's safetensors checkpoints, written with json + numpy only
(the `safetensors` package is not needed, so the check does not share code with any other implementation).

    safetensors_crosscheck.py verify MODEL   Strictly parse MODEL and MODEL's optimizer file as CnnGen wrote them for
                                             the fixture network (FixturePattern.CnnGenFixtureContents) and check the
                                             layout, every value bit for bit, the metadata and both SHA-256 hashes.
    safetensors_crosscheck.py write OUT      Write the fixture "exported by another tool": the fixture network with
                                             salts + 100, num_batches_tracked = 57, metadata {"format": "pt"}, laid
                                             out as the reference implementation lays out a torch state_dict.

The value pattern and the salts must stay in step with FixturePattern.cs.
Exit status 0 and a line starting with "OK" mean the check passed.
"""
import hashlib
import json
import struct
import sys

import numpy as np

DTYPES = {  # safetensors name -> little-endian numpy dtype
    "BOOL": "|b1", "U8": "|u1", "I8": "|i1", "I16": "<i2", "U16": "<u2", "F16": "<f2", "BF16": None,
    "I32": "<i4", "U32": "<u4", "F32": "<f4", "F64": "<f8", "I64": "<i8", "U64": "<u8",
}
ITEMSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
            "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}

SALTS = {
    "0.weight": 1, "0.bias": 2,
    "1.weight": 3, "1.bias": 4, "1.running_mean": 5, "1.running_var": 6,
    "4.weight": 7, "4.bias": 8,
    "optimizer.exp_avg": 9, "optimizer.exp_avg_sq": 10,
}
PYTHON_SALT_OFFSET = 100
SHAPES = {  # nn.Sequential(Conv2d(1, 4, 3), BatchNorm2d(4), ReLU(), Flatten(), Linear(64, 10))
    "0.weight": (4, 1, 3, 3), "0.bias": (4,),
    "1.weight": (4,), "1.bias": (4,), "1.running_mean": (4,), "1.running_var": (4,),
    "4.weight": (10, 64), "4.bias": (10,),
}
PARAMETER_COUNT = 4 * 9 + 4 + 4 + 4 + 10 * 64 + 10
CNNGEN_STEP = 1234
PYTHON_BATCHES_TRACKED = 57


class CheckError(Exception):
    pass


def require(condition, message):
    if not condition:
        raise CheckError(message)


def pattern(name, salt, count):
    k = np.arange(count, dtype=np.int64)
    values = ((k * 37 + salt * 11) % 251 - 125) / 32.0  # exact in float64 and float32
    if name.endswith("running_var") or name.endswith("exp_avg_sq"):
        values = np.abs(values) + 0.25
    return values.astype("<f4")


def read_safetensors(path):
    """Parses a safetensors file strictly; returns (metadata, tensors, info) where tensors maps name -> numpy array
    and info holds the raw layout (header length, padding, header key order, data offsets, data bytes)."""
    with open(path, "rb") as f:
        blob = f.read()
    require(len(blob) >= 8, f"{path}: {len(blob)} bytes, shorter than the length prefix")
    (n,) = struct.unpack("<Q", blob[:8])
    require(8 + n <= len(blob), f"{path}: header length {n} beyond the file ({len(blob)} bytes)")
    header_bytes = blob[8:8 + n]
    require(header_bytes[:1] == b"{", f"{path}: header does not start with '{{'")
    text = header_bytes.decode("utf-8")  # raises on invalid UTF-8
    stripped = text.rstrip(" ")
    pairs = []

    def no_duplicates(items):
        keys = [key for key, _ in items]
        require(len(keys) == len(set(keys)), f"{path}: duplicate keys {keys}")
        pairs.append(keys)
        return dict(items)

    header = json.loads(stripped, object_pairs_hook=no_duplicates)
    top_keys = pairs[-1]
    data = blob[8 + n:]
    metadata = header.pop("__metadata__", None) or {}
    require(all(isinstance(v, str) for v in metadata.values()), f"{path}: metadata values must be strings")

    layout = []
    for name, entry in header.items():
        dtype = entry["dtype"]
        require(dtype in ITEMSIZE, f"{path}: tensor {name} has unknown dtype {dtype}")
        shape = entry["shape"]
        require(all(isinstance(d, int) and d >= 0 for d in shape), f"{path}: tensor {name} has bad shape {shape}")
        begin, end = entry["data_offsets"]
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        require(end - begin == count * ITEMSIZE[dtype],
                f"{path}: tensor {name} spans {end - begin} bytes, shape {shape} of {dtype} needs {count * ITEMSIZE[dtype]}")
        layout.append((begin, end, name, dtype, tuple(shape)))
    layout.sort()
    covered = 0
    for begin, end, name, _, _ in layout:
        require(begin == covered, f"{path}: tensor {name} starts at {begin}, expected {covered} (gap or overlap)")
        covered = end
    require(covered == len(data), f"{path}: tensors cover {covered} bytes of a {len(data)}-byte data section")

    tensors = {}
    for begin, end, name, dtype, shape in layout:
        require(DTYPES[dtype] is not None, f"{path}: tensor {name}: {dtype} cannot be checked with numpy")
        tensors[name] = np.frombuffer(data, dtype=DTYPES[dtype], count=(end - begin) // ITEMSIZE[dtype],
                                      offset=begin).reshape(shape)
    info = {"header_length": n, "padding": len(text) - len(stripped), "header_keys": top_keys,
            "layout": layout, "data": data}
    return metadata, tensors, info


def write_safetensors(path, tensors, metadata):
    """Writes tensors (name -> numpy array) as the reference implementation does: data ordered by dtype size
    (largest first) then name, header padded with spaces to a multiple of 8."""
    names = {np.dtype("<f4"): "F32", np.dtype("<i8"): "I64"}
    order = sorted(tensors, key=lambda name: (-tensors[name].dtype.itemsize, name))
    header, offset, chunks = {"__metadata__": metadata}, 0, []
    for name in order:
        raw = np.ascontiguousarray(tensors[name]).tobytes()
        header[name] = {"dtype": names[tensors[name].dtype], "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    # Sorted keys put the header in name order, unlike the data: readers must not assume the two agree.
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)


def check_layout(path, info, metadata_first=True):
    require(info["header_length"] % 8 == 0, f"{path}: header length {info['header_length']} is not a multiple of 8")
    require(info["padding"] < 8, f"{path}: {info['padding']} bytes of padding, more than needed")
    data_order = [name for _, _, name, _, _ in info["layout"]]
    expected_keys = (["__metadata__"] if metadata_first else []) + data_order
    require(info["header_keys"] == expected_keys,
            f"{path}: header keys {info['header_keys']}, expected __metadata__ then data order {expected_keys}")
    for begin, _, name, dtype, _ in info["layout"]:
        require((8 + info["header_length"] + begin) % ITEMSIZE[dtype] == 0, f"{path}: tensor {name} is misaligned")


def same_bits(actual, expected):
    return actual.dtype == expected.dtype and actual.shape == expected.shape and \
        np.array_equal(actual.view(np.uint32), expected.view(np.uint32))


def verify(model_path):
    metadata, tensors, info = read_safetensors(model_path)
    check_layout(model_path, info)
    expected_names = set(SHAPES) | {"1.num_batches_tracked"}
    require(set(tensors) == expected_names, f"{model_path}: tensors {sorted(tensors)}, expected {sorted(expected_names)}")
    for name, shape in SHAPES.items():
        expected = pattern(name, SALTS[name], int(np.prod(shape))).reshape(shape)
        require(same_bits(tensors[name], expected), f"{model_path}: tensor {name} differs from the pattern")
    batches = tensors["1.num_batches_tracked"]
    require(batches.dtype == np.dtype("<i8") and batches.shape == () and int(batches) == CNNGEN_STEP,
            f"{model_path}: num_batches_tracked is {batches!r}, expected int64 scalar {CNNGEN_STEP}")
    model_hash = hashlib.sha256(info["data"]).hexdigest()
    expected_metadata = {
        "cnngen.format_version": "1", "cnngen.network": "FakeLeNet", "cnngen.epoch": "3",
        "cnngen.step": str(CNNGEN_STEP), "learning_rate": "0.001", "note": "résumé ✓ — non-ASCII survives",
        "cnngen.data_sha256": model_hash,
    }
    require(metadata == expected_metadata, f"{model_path}: metadata {metadata}, expected {expected_metadata}")

    optimizer_path = model_path.rsplit(".", 1)[0] + ".optimizer.safetensors"
    metadata, tensors, info = read_safetensors(optimizer_path)
    check_layout(optimizer_path, info)
    require(set(tensors) == {"optimizer.exp_avg", "optimizer.exp_avg_sq"}, f"{optimizer_path}: tensors {sorted(tensors)}")
    for name, values in tensors.items():
        require(same_bits(values, pattern(name, SALTS[name], PARAMETER_COUNT)), f"{optimizer_path}: {name} differs")
    expected_metadata = {
        "cnngen.format_version": "1", "cnngen.optimizer.kind": "Adam", "cnngen.optimizer.step": str(CNNGEN_STEP),
        "cnngen.model_data_sha256": model_hash, "cnngen.data_sha256": hashlib.sha256(info["data"]).hexdigest(),
    }
    require(metadata == expected_metadata, f"{optimizer_path}: metadata {metadata}, expected {expected_metadata}")
    print(f"OK: {model_path} and {optimizer_path}: layout, {len(SHAPES) + 3} tensors bit-exact, metadata and hashes")


def write(path):
    tensors = {name: pattern(name, SALTS[name] + PYTHON_SALT_OFFSET, int(np.prod(shape))).reshape(shape)
               for name, shape in SHAPES.items()}
    tensors["1.num_batches_tracked"] = np.array(PYTHON_BATCHES_TRACKED, dtype="<i8")
    write_safetensors(path, tensors, {"format": "pt"})
    metadata, read_back, info = read_safetensors(path)
    require(set(read_back) == set(tensors) and metadata == {"format": "pt"}, f"{path}: did not read back")
    print(f"OK: wrote {path} ({len(tensors)} tensors, {len(info['data'])} data bytes)")


def main(argv):
    if len(argv) != 3 or argv[1] not in ("verify", "write"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        (verify if argv[1] == "verify" else write)(argv[2])
    except (CheckError, ValueError, KeyError, OSError) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
