#!/usr/bin/env python3
"""Interop fixtures for Recur's IO: safetensors and .npy files written by Python, read by the Swift
tests (Tests/RecurTests/{SafeTensorsTests,NumPyTests,CheckpointTests}.swift), and the reverse
check that files written by Recur open in Python.

Writes small files into Tests/RecurTests/Fixtures/interop/.

Run from the repository root:

    ~/ref/bin/python Tools/Reference/interop.py

Phase 1 writes the Python-made fixtures. Phase 2 reads the Recur-made files
(written_by_recur.safetensors, written_by_recur_f32.npy, written_by_recur_i64.npy) with
`safetensors`, `torch` and `numpy` and checks every value. The Swift test
`SafeTensorsTests/recurWrittenFixturesMatchTheWriter` asserts those files are byte for byte what
Recur writes today; to regenerate them run

    RECUR_UPDATE_INTEROP_FIXTURES=1 swift test --scratch-path .build-io --filter recurWrittenFixturesMatchTheWriter

and then this script again.

Verified by hand (torch 2.15.0, safetensors 0.8.0, numpy 2.4.6), phase 2 printed:

    read back written_by_recur.safetensors with safetensors 0.8.0: 26 tensors, metadata keys ['note', 'recur.configuration', 'recur.format', 'recur.producer', 'recur.task', 'recur.training']
      model tensors equal the PyTorch originals bit for bit; load_state_dict(strict=True) ok; forward ok (1, 3, 11)
      optimizer.* tensors equal 0.5 * weights; step 42; rng words = splitmix64(7); configuration and training decode
    read back written_by_recur_f32.npy with numpy 2.4.6: float32 (2, 3) ok
    read back written_by_recur_i64.npy with numpy 2.4.6: int64 (3,) ok
"""

import json
import os
import sys

import numpy as np
import safetensors
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "RecurTests", "Fixtures", "interop")


def path(name):
    return os.path.join(OUT, name)


# MARK: - Models whose state_dicts are fixtures


class LanguageModel(torch.nn.Module):
    """Embedding -> 2-layer bidirectional LSTM with projection -> Linear, as a char LM would be."""

    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(11, 6)
        self.lstm = torch.nn.LSTM(6, 8, num_layers=2, bidirectional=True, proj_size=4, batch_first=True)
        self.decoder = torch.nn.Linear(8, 11)

    def forward(self, tokens):
        out, _ = self.lstm(self.embedding(tokens))
        return self.decoder(out)


class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.GRU(3, 5)


class Decoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.RNN(5, 5, num_layers=3, nonlinearity="relu", bias=False)
        self.out = torch.nn.Linear(5, 7, bias=False)


class Seq2Seq(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()


def write_safetensors():
    # Every dtype Recur reads, each next to its float32 conversion by torch (`<name>_as_f32`).
    # Bit patterns sampled across the whole range (subnormals, infinities, NaNs included).
    f16 = torch.arange(0, 65536, 61, dtype=torch.int32).to(torch.int16).view(torch.float16)
    bf16 = torch.arange(0, 65536, 67, dtype=torch.int32).to(torch.int16).view(torch.bfloat16)
    e4m3 = torch.arange(256, dtype=torch.uint8).view(torch.float8_e4m3fn)
    e5m2 = torch.arange(256, dtype=torch.uint8).view(torch.float8_e5m2)
    f64 = torch.tensor([0.1, 1 / 3, -2.5, 1e-40, 1e300, -1e-300, 123456789.123, float("inf"), float("nan")], dtype=torch.float64).reshape(3, 3)
    tensors = {
        "f16": f16, "f16_as_f32": f16.float(),
        "bf16": bf16, "bf16_as_f32": bf16.float(),
        "e4m3": e4m3, "e4m3_as_f32": e4m3.float(),
        "e5m2": e5m2, "e5m2_as_f32": e5m2.float(),
        "f64": f64, "f64_as_f32": f64.float(),
        "f32": torch.tensor([[0.0, -0.0, 1.5], [-2.25, 1e-30, float("inf")]]),
        # Integers: exact values the test spells out.
        "i64": torch.tensor([-(2**62), -1, 0, 1, 2**40 + 3, 2**63 - 1], dtype=torch.int64),
        "i32": torch.tensor([-(2**31), -1, 0, 2**31 - 1], dtype=torch.int32),
        "i16": torch.tensor([-32768, 7, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 200, 255], dtype=torch.uint8),
        "u16": torch.tensor([0, 65535], dtype=torch.uint16),
        "u32": torch.tensor([0, 4294967295], dtype=torch.uint32),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 3),
    }
    save_file(tensors, path("dtypes.safetensors"), metadata={"source": "interop.py", "purpose": "dtype decoding"})

    torch.manual_seed(0)
    lm = LanguageModel()
    save_file(lm.state_dict(), path("lstm_lm.safetensors"))
    # One weight again as .npy, to cross-check the two readers.
    np.save(path("lstm_lm_weight_hh_l1_reverse.npy"), lm.lstm.weight_hh_l1_reverse.detach().numpy())

    torch.manual_seed(1)
    save_file(Seq2Seq().state_dict(), path("seq2seq.safetensors"))
    torch.manual_seed(2)
    save_file(torch.nn.RNN(4, 3).state_dict(), path("rnn_top_level.safetensors"))
    # A file with a dtype Recur lists but cannot convert.
    save_file({"z": torch.tensor([1 + 2j], dtype=torch.complex64), "x": torch.ones(2)}, path("complex.safetensors"))


def write_npy():
    np.save(path("f32_2x3.npy"), np.array([[1.5, -2.0, 0.25], [3.0, -0.0, 1e-30]], dtype=np.float32))
    np.save(path("f64_3.npy"), np.array([0.1, 1 / 3, 1e300], dtype=np.float64))
    np.save(path("f16_4.npy"), np.array([0.5, -65504, 6e-8, np.inf], dtype=np.float16))
    np.save(path("be_f4_3.npy"), np.array([1.0, -2.5, 3.25], dtype=">f4"))
    np.save(path("i32_4.npy"), np.array([-(2**31), -1, 0, 2**31 - 1], dtype=np.int32))
    np.save(path("i64_2x2.npy"), np.array([[-(2**62), 2**40 + 3], [0, 2**63 - 1]], dtype=np.int64))
    np.save(path("u8_5.npy"), np.array([0, 1, 128, 254, 255], dtype=np.uint8))
    np.save(path("bool_3.npy"), np.array([True, False, True]))
    np.save(path("scalar_f8.npy"), np.float64(2.5))
    np.save(path("empty_0x3.npy"), np.zeros((0, 3), dtype=np.float32))
    with open(path("v2_f4.npy"), "wb") as f:
        np.lib.format.write_array(f, np.array([7.0, 8.0], dtype=np.float32), version=(2, 0))
    # Unsupported: each must be a clear error in Recur.
    np.save(path("fortran_2x3.npy"), np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
    np.save(path("object.npy"), np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(path("structured.npy"), np.zeros(2, dtype=[("x", "<f4"), ("y", "<i4")]))
    np.save(path("unicode.npy"), np.array(["ab", "c"]))
    np.save(path("complex.npy"), np.array([1 + 2j], dtype=np.complex64))


# MARK: - Phase 2: files written by Recur, read by Python


def splitmix64_words(seed, n=4):
    mask = (1 << 64) - 1
    s = seed
    out = []
    for _ in range(n):
        s = (s + 0x9E3779B97F4A7C15) & mask
        z = s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append(z ^ (z >> 31))
    return out


def check_written_by_recur():
    st = path("written_by_recur.safetensors")
    if not os.path.exists(st):
        print("no written_by_recur.safetensors yet: run the Swift test with RECUR_UPDATE_INTEROP_FIXTURES=1, then this script again")
        return
    loaded = load_file(st)
    with safe_open(st, framework="pt") as f:
        metadata = f.metadata()
    print(f"read back written_by_recur.safetensors with safetensors {safetensors.__version__}: {len(loaded)} tensors, metadata keys {sorted(metadata)}")
    original = load_file(path("lstm_lm.safetensors"))
    model = {k: v for k, v in loaded.items() if not k.startswith("optimizer.")}
    assert sorted(model) == sorted(original), (sorted(model), sorted(original))
    for k in original:
        assert model[k].dtype == torch.float32 and torch.equal(model[k], original[k]), k
    lm = LanguageModel()
    lm.load_state_dict(model, strict=True)
    out = lm(torch.tensor([[1, 2, 3]]))
    print(f"  model tensors equal the PyTorch originals bit for bit; load_state_dict(strict=True) ok; forward ok {tuple(out.shape)}")
    optimizer = {k[len("optimizer."):]: v for k, v in loaded.items() if k.startswith("optimizer.")}
    for k, v in optimizer.items():
        if k.startswith("exp_avg."):
            assert torch.equal(v, original[k[len("exp_avg."):]] * 0.5), k
    assert optimizer["step"].shape == () and optimizer["step"].item() == 42.0
    # A ModelArchive (format 2): task, configuration and training state as metadata.
    assert metadata["recur.format"] == "2" and metadata["recur.task"] == "language-model", metadata
    assert metadata["recur.producer"] == "Recur interop fixture"
    training = json.loads(metadata["recur.training"])
    assert training == {"step": 42, "rng": splitmix64_words(7)}, training
    config = json.loads(metadata["recur.configuration"])
    assert config == {"cell": "lstm", "embedding": 6, "hidden": 8, "layers": 2, "bidirectional": True, "proj_size": 4,
                      "vocabulary": ["a", "b", "\n", "é", "\"", "\\"]}, config
    assert metadata["note"] == "written by Recur"
    print("  optimizer.* tensors equal 0.5 * weights; step 42; rng words = splitmix64(7); configuration and training decode")

    for name, dtype, shape in [("written_by_recur_f32.npy", np.float32, (2, 3)), ("written_by_recur_i64.npy", np.int64, (3,))]:
        a = np.load(path(name), allow_pickle=False)
        assert a.dtype == dtype and a.shape == shape and a.flags.c_contiguous, (a.dtype, a.shape)
        expected = np.array([[1.5, -2.0, 0.25], [3.0, -0.0, 1e-30]], dtype=np.float32) if dtype == np.float32 else np.array([-(2**62), 0, 2**63 - 1])
        assert np.array_equal(a, expected), a
        print(f"read back {name} with numpy {np.__version__}: {a.dtype} {a.shape} ok")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    if "--check-only" not in sys.argv:
        write_safetensors()
        write_npy()
    check_written_by_recur()
