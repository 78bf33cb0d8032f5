"""Fixtures for `recur infer`: PyTorch recurrent modules exported with safetensors.torch.save_file
(state_dict, as a user would), an input .npy and the outputs PyTorch computes (float64 reference,
stored float32). Writes Tests/RecurTests/Fixtures/infer/<name>.{safetensors,x.npy,y.npy,h.npy[,c.npy,lengths.npy]}.

Run: ~/ref/bin/python Tools/Reference/infer.py
"""
import os

import numpy as np
import torch
from safetensors.torch import save_file
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "RecurTests", "Fixtures", "infer")


def export(name, module, x, batch_first=False, lengths=None, prefix=""):
    module = module.double().eval()
    with torch.no_grad():
        xin = x.double()
        if lengths is None:
            y, state = module(xin)
        else:
            packed = pack_padded_sequence(xin, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
            y, state = module(packed)
            y, _ = pad_packed_sequence(y, batch_first=batch_first, total_length=x.shape[1 if batch_first else 0])
    h, c = state if isinstance(state, tuple) else (state, None)
    sd = {prefix + k: v.float().contiguous() for k, v in module.state_dict().items()}
    save_file(sd, os.path.join(OUT, name + ".safetensors"))
    np.save(os.path.join(OUT, name + ".x.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, name + ".y.npy"), y.numpy().astype(np.float32))
    np.save(os.path.join(OUT, name + ".h.npy"), h.numpy().astype(np.float32))
    if c is not None:
        np.save(os.path.join(OUT, name + ".c.npy"), c.numpy().astype(np.float32))
    if lengths is not None:
        np.save(os.path.join(OUT, name + ".lengths.npy"), np.array(lengths, dtype=np.int64))
    print(name, "ok")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(7)
    export("lstm_proj_bidir", torch.nn.LSTM(5, 8, 2, bidirectional=True, proj_size=3), torch.randn(6, 2, 5))
    export("gru_batch_first_lengths", torch.nn.GRU(4, 6, 2, batch_first=True, bidirectional=True),
           torch.randn(3, 7, 4), batch_first=True, lengths=[7, 2, 5])
    export("rnn_relu", torch.nn.RNN(3, 5, 1, nonlinearity="relu"), torch.randn(4, 2, 3), prefix="encoder.rnn.")
    char_models()


class CharModel(torch.nn.Module):
    """Embedding → recurrent stack → Linear, the layout of Recur's CharLM (embedding/rnn/decoder)."""

    def __init__(self, cell, vocab, emb, hidden, layers):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab, emb)
        self.rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell](emb, hidden, layers)
        self.decoder = torch.nn.Linear(hidden, vocab)

    def forward(self, tokens):
        out, _ = self.rnn(self.embedding(tokens))
        return self.decoder(out)


def char_models():
    """A whole PyTorch model's state_dict (safetensors.torch.save_file), tokens [T, B] and its logits."""
    for cell, layers in (("lstm", 2), ("gru", 1)):
        model = CharModel(cell, 11, 6, 9, layers).double().eval()
        tokens = torch.randint(0, 11, (5, 3))
        with torch.no_grad():
            logits = model(tokens)
        name = f"charmodel_{cell}"
        save_file({k: v.float().contiguous() for k, v in model.state_dict().items()}, os.path.join(OUT, name + ".safetensors"))
        np.save(os.path.join(OUT, name + ".tokens.npy"), tokens.numpy().astype(np.int64))
        np.save(os.path.join(OUT, name + ".logits.npy"), logits.numpy().astype(np.float32))
        print(name, "ok")


if __name__ == "__main__":
    main()
