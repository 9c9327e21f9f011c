"""Connectivity (Madsen 2019) against finite differences and a per-step loop of backward passes,
on tiny stand-ins of the autocomplete models (same contract: `embedding`, `logits_from_embeddings`;
some also expose `hidden_from_embeddings` and `readout`, as rnnatlas.models.autocomplete does).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import rnnatlas.analysis.connectivity as connectivity_module
from rnnatlas.analysis.connectivity import (
    _readout,
    connectivity,
    normalise_rows,
    top_predictions,
)

N_SYMBOLS, CLASSES = 28, 11
TEXT = "the cat sat"


class TinyAutocomplete(nn.Module):
    """Embedding(28, E, padding_idx=0) -> GRU/LSTM -> Linear, like the real models, only tiny."""

    def __init__(self, cell: str = "gru", bidirectional: bool = False, dropout: float = 0.0):
        super().__init__()
        self.embedding = nn.Embedding(N_SYMBOLS, 5, padding_idx=0)
        rnn = {"gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.rnn = rnn(5, 6, num_layers=2, batch_first=True, bidirectional=bidirectional,
                       dropout=dropout)  # fmt: skip
        self.dense = nn.Linear(6 * (2 if bidirectional else 1), CLASSES)

    def logits_from_embeddings(self, emb: torch.Tensor) -> torch.Tensor:
        return self.dense(self.rnn(emb)[0])

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.logits_from_embeddings(self.embedding(tokens))


class WithReadout(TinyAutocomplete):
    """Also exposes its last layer: connectivity can skip the other logits."""

    @property
    def readout(self) -> nn.Linear:
        return self.dense

    def hidden_from_embeddings(self, emb: torch.Tensor) -> torch.Tensor:
        return self.rnn(emb)[0]


class ScaledLogits(WithReadout):
    """Logits that are not readout(hidden): connectivity must not take the shortcut."""

    def logits_from_embeddings(self, emb: torch.Tensor) -> torch.Tensor:
        return 3.0 * super().logits_from_embeddings(emb)


KINDS = {"plain": TinyAutocomplete, "readout": WithReadout, "scaled": ScaledLogits}


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread (the machine is shared), given back after each test."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _model(cell: str = "gru", seed: int = 0, kind: str = "plain", **kw) -> TinyAutocomplete:
    torch.manual_seed(seed)
    model = KINDS[kind](cell, **kw).double()
    with torch.no_grad():  # larger weights than the default init: gradients far from zero
        for p in model.parameters():
            p.mul_(2.0)
        model.embedding.weight[0] = 0.0  # padding row stays zero, as nn.Embedding keeps it
    return model.eval()


def _tokens(text: str = TEXT) -> torch.Tensor:
    return torch.tensor([1 if c == " " else ord(c) - ord("a") + 2 for c in text])


def _targets(n: int, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, CLASSES, (n,), generator=torch.Generator().manual_seed(seed))


def _logits_of_onehot(model: TinyAutocomplete, onehot: torch.Tensor) -> torch.Tensor:
    """The model as a function of continuous inputs x [B, T, 28]: emb = x @ E."""
    return model.logits_from_embeddings(onehot @ model.embedding.weight)


def finite_differences(model, tokens, targets, h: float = 1e-6) -> np.ndarray:
    """Σ_j (∂z_k(t̃)/∂x_j(t))² by central differences along each of the 28 one-hot directions.

    All 2 x T x 28 perturbed texts go in one batch; each gives the derivative at every t̃ at once.
    """
    n = len(tokens)
    base = nn.functional.one_hot(tokens, N_SYMBOLS).double()
    shifts = torch.zeros(n, N_SYMBOLS, n, N_SYMBOLS, dtype=torch.float64)
    for t in range(n):
        shifts[t, :, t, :] = torch.eye(N_SYMBOLS) * h
    shifts = shifts.reshape(n * N_SYMBOLS, n, N_SYMBOLS)
    with torch.no_grad():
        up = _logits_of_onehot(model, base + shifts)  # [T*28, T, C]
        down = _logits_of_onehot(model, base - shifts)
    rows = torch.arange(n)
    deriv = (up[:, rows, targets] - down[:, rows, targets]) / (2 * h)  # [T*28 (t, j), T (t̃)]
    deriv = deriv.reshape(n, N_SYMBOLS, n)  # [t, j, t̃]
    return deriv.square().sum(1).T.numpy()  # [t̃, t]


def per_step_loop(model, tokens, targets) -> np.ndarray:
    """One backward pass per output step, w.r.t. the one-hot input itself (a graph leaf here)."""
    n = len(tokens)
    out = np.zeros((n, n))
    for t_out in range(n):
        onehot = nn.functional.one_hot(tokens, N_SYMBOLS).double()[None].requires_grad_(True)
        logit = _logits_of_onehot(model, onehot)[0, t_out, targets[t_out]]
        (grad,) = torch.autograd.grad(logit, onehot)
        out[t_out] = grad[0].square().sum(-1).numpy()
    return out


@pytest.mark.parametrize("kind", ["plain", "readout"])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_matches_finite_differences(cell, kind):
    model, tokens = _model(cell, kind=kind), _tokens()
    targets = _targets(len(tokens))
    ours = connectivity(model, tokens, targets)
    reference = finite_differences(model, tokens, targets)
    assert ours.dtype == np.float64 and ours.shape == (len(tokens), len(tokens))
    assert reference.max() > 1e-3  # a test of something
    np.testing.assert_allclose(ours, reference, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("kind", ["plain", "readout", "scaled"])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("steps_per_pass", [None, 1, 4, len(TEXT)])
def test_matches_per_step_backward_loop(cell, steps_per_pass, kind):
    model, tokens = _model(cell, seed=3, kind=kind), _tokens()
    targets = _targets(len(tokens), seed=4)
    ours = connectivity(model, tokens, targets, steps_per_pass=steps_per_pass)
    np.testing.assert_allclose(ours, per_step_loop(model, tokens, targets), rtol=1e-10, atol=1e-14)


def test_causal_zeros_and_nonzero_lower_triangle():
    model, tokens = _model(), _tokens()
    conn = connectivity(model, tokens, _targets(len(tokens)))
    n = len(tokens)
    upper = np.triu_indices(n, 1)
    assert np.all(conn[upper] == 0.0)
    # every input step that holds a real symbol (no padding) reaches every later output step
    assert np.all(conn[np.tril_indices(n)] > 0)
    # and finite differences agree the future has no influence
    assert np.abs(finite_differences(model, tokens, _targets(n))[upper]).max() < 1e-12


def test_padding_input_matches_finite_differences():
    model = _model()
    # <eos> read as input: row 0 of E is zero, so direction 0 adds nothing but the 27 others do
    tokens = torch.tensor([0, 5, 0, 7])
    conn = connectivity(model, tokens, _targets(4))
    np.testing.assert_allclose(conn, finite_differences(model, tokens, _targets(4)), rtol=1e-6)


@pytest.mark.parametrize("steps_per_pass", [None, 1])  # 1: only the extra check row sees ahead
def test_bidirectional_model_is_refused(steps_per_pass):
    model, tokens = _model(bidirectional=True), _tokens()
    with pytest.raises(ValueError, match="causal"):
        connectivity(model, tokens, _targets(len(tokens)), steps_per_pass=steps_per_pass)


def test_squared_is_the_square_of_plain():
    model, tokens = _model("lstm"), _tokens()
    targets = _targets(len(tokens))
    squared = connectivity(model, tokens, targets, squared=True)
    plain = connectivity(model, tokens, targets, squared=False)
    np.testing.assert_allclose(plain**2, squared, rtol=1e-12)
    # after the per-row normalisation the two displays differ by the same square
    np.testing.assert_allclose(normalise_rows(plain) ** 2, normalise_rows(squared), rtol=1e-12)


def test_input_shapes_modes_and_float32():
    model, tokens = _model(), _tokens()
    targets = _targets(len(tokens))
    flat = connectivity(model, tokens, targets)
    np.testing.assert_array_equal(connectivity(model, tokens[None], targets[None]), flat)
    np.testing.assert_array_equal(connectivity(model, tokens.tolist(), targets.numpy()), flat)
    # the module itself is callable: the public name rnnatlas.analysis.connectivity(...)
    np.testing.assert_array_equal(connectivity_module(model, tokens, targets), flat)

    # dropout in training mode would make the repeated rows differ: eval is used, mode restored
    dropping = _model("lstm", dropout=0.5).train()
    reference = per_step_loop(dropping.eval(), tokens, targets)
    dropping.train()
    np.testing.assert_allclose(connectivity(dropping, tokens, targets), reference, rtol=1e-10)
    assert dropping.training

    single = _model().float()
    conn32 = connectivity(single, tokens, targets)
    assert conn32.dtype == np.float32
    np.testing.assert_allclose(conn32, per_step_loop(single.double(), tokens, targets), rtol=1e-3,
                               atol=1e-6)  # fmt: skip


def test_bad_input_fails_fast_with_a_message():
    model, tokens = _model(), _tokens()
    targets = _targets(len(tokens))
    with pytest.raises(ValueError, match=r"one text, shape \[T\] or \[1, T\]"):
        connectivity(model, torch.stack([tokens, tokens]), targets)
    with pytest.raises(ValueError, match="one target word id per input character"):
        connectivity(model, tokens, targets[:-1])
    with pytest.raises(ValueError, match="targets hold word id 11 but there are 11 output"):
        connectivity(model, tokens, torch.full_like(targets, CLASSES))
    with pytest.raises(ValueError, match="inputs hold symbol id 28"):
        connectivity(model, torch.full_like(tokens, 28), targets)
    with pytest.raises(ValueError, match="integer ids"):
        connectivity(model, tokens.double(), targets)
    with pytest.raises(ValueError, match="steps_per_pass must be at least 1"):
        connectivity(model, tokens, targets, steps_per_pass=0)
    with pytest.raises(TypeError, match="logits_from_embeddings"):
        connectivity(nn.GRU(5, 6), tokens, targets)


def test_normalise_rows_by_hand():
    conn = np.array([[2.0, 0.0, 0.0], [1.0, 4.0, 0.0], [0.0, 0.0, 0.0]])
    expected = np.array([[1.0, 0.0, 0.0], [0.25, 1.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(normalise_rows(conn), expected)
    with pytest.raises(ValueError, match="non-negative"):
        normalise_rows(-conn - 1)
    with pytest.raises(ValueError, match=r"\[T_out, T_in\]"):
        normalise_rows(np.ones(3))


def test_top_predictions_against_numpy_softmax():
    model, tokens = _model(), _tokens()
    ids, probs = top_predictions(model, tokens, k=3)
    with torch.no_grad():
        logits = model(tokens[None])[0].numpy()
    softmax = np.exp(logits - logits.max(-1, keepdims=True))
    softmax /= softmax.sum(-1, keepdims=True)
    order = np.argsort(-softmax, axis=1)[:, :3]
    np.testing.assert_array_equal(ids, order)
    np.testing.assert_allclose(probs, np.take_along_axis(softmax, order, 1), rtol=1e-12)


def test_heatmaps_show_rows_normalised_and_the_future_masked(tmp_path, monkeypatch):
    from rnnatlas.figures import connectivity as figure

    text = "to be"
    base = np.tril(np.arange(1.0, 26.0).reshape(5, 5))
    panels = {"gru": (text, base), "lstm": (text, 2 * base), "nlstm": (text, base**2)}
    shown = {}
    real_save = figure.style.save

    def spy(fig, out_dir, name):  # what each panel draws, read before the figure is closed
        shown.update({ax.get_title(): ax.images[0].get_array() for ax in fig.axes[:3]})
        return real_save(fig, out_dir, name)

    monkeypatch.setattr(figure.style, "save", spy)
    paths = figure.connectivity_heatmaps(panels, tmp_path, "hero")
    assert [p.name for p in paths] == ["hero.png", "hero.svg"]
    assert all(p.stat().st_size > 1000 for p in paths)
    assert sorted(shown) == ["GRU", "LSTM", "Nested LSTM"]

    # row 3 of `base` is [16, 17, 18, 19, 0]: divided by 19; the cell (3, 4) is the future
    expected = np.array([16, 17, 18, 19]) / 19
    for title in ("GRU", "LSTM"):  # the factor 2 disappears in the normalisation
        np.testing.assert_allclose(shown[title][3, :4], expected)
        assert shown[title].mask[3, 4] and not shown[title].mask[3, :4].any()
    np.testing.assert_allclose(shown["Nested LSTM"][3, :4], expected**2)
    assert shown["GRU"].mask.sum() == 10  # the strict upper triangle of 5 x 5

    svg = paths[1].read_text()
    assert "Nested LSTM" in svg and "␣" in svg  # text kept as text, spaces made visible
    with pytest.raises(ValueError, match=r"expected \(5, 5\)"):
        figure.connectivity_heatmaps({"gru": (text, base[:4, :4])}, tmp_path, "bad")
    assert not list(tmp_path.glob("bad*")) and not list(tmp_path.glob(".*tmp*"))


def test_readout_shortcut_only_when_logits_are_readout_of_hidden():
    embedded = _model().embedding(_tokens()[None]).detach()
    assert _readout(_model(kind="plain"), embedded) is None  # nothing exposed
    assert _readout(_model(kind="scaled"), embedded) is None  # exposed, but not the logits
    hidden_from_embeddings, weight = _readout(_model(kind="readout"), embedded)
    assert weight.shape == (CLASSES, 6)
