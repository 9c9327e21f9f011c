"""Connectivity (Madsen 2019, "Visualizing memorization in RNNs"): how strongly the logit of the
word being typed at one character depends on each earlier input character.

    connectivity(t, t̃) = ‖∂ z_k(t̃) / ∂ x(t)‖₂

z_k(t̃) is the logit of the target word k at output step t̃, x(t) the one-hot input at step t.
The article writes the plain norm; the author's TensorFlow code sums the squares (no square root):
`squared=True` (the default) is the code, `squared=False` the article.

Which gradient. The one-hot input never enters the graph (the model looks its embedding up), so
the gradient is taken w.r.t. the embedding output e(t) = x(t) E and chained through the embedding
matrix E [28, D]: ∂z/∂x(t) = E ∂z/∂e(t), a 28-vector whose entry j is the rate of change of the
logit when x(t) moves towards symbol j. The norm runs over these 28 entries, as in the author's
code (gradient w.r.t. the embedding, times Eᵀ, squares summed over the symbols): the local
sensitivity to the input character in every direction of the input space, not only towards the
symbol actually read (that single entry would be a "gradient x input" attribution, another
measure). Unlike ‖∂z/∂e(t)‖ it does not depend on how the embedding space is parametrised: an
invertible map A absorbed by the next layer (E -> E A) leaves E ∂z/∂e unchanged, so models with
different embeddings compare. Row 0 of E (`<eos>`, the padding symbol) is zero: its entry is 0.

How it is computed: one batched backward pass for all output steps (no loop over pairs). The
embedded text is repeated once per output step t̃ along the batch axis; row i's logit of its own
target at its own step i is picked out, the picks are summed and differentiated once w.r.t. the
repeated embeddings. Rows never interact (eval mode: no dropout, no batch statistics), so row i of
the gradient is ∂z_k(i)/∂e. When the [rows, T, C] logits of all T rows would not fit in
`_LOGITS_BYTES`, or T is long, the rows go in a few passes of consecutive output steps, and a pass
over steps [a, b) only reads the prefix [0, b): a causal model's outputs before b do not depend on
later inputs, which nearly halves the work (output step 0 then reads the whole text in one more
row, to check that causality). A model that also exposes `hidden_from_embeddings` and its last
layer as `readout` (nn.Linear), as rnnatlas.models.autocomplete does, has only the picked logits
W_k · h(t̃) computed instead of all C of them (see `_readout`). (`torch.func.vmap` over a vjp
gives the same numbers, but the fused RNN kernels have no batching rule: it falls back to a loop
and is slower.)
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch loads only when a connectivity is computed
    import torch

N_SYMBOLS = 28  # <eos>, space, a-z
# Logits of one backward pass, at most: 200 characters x 16,386 classes x 4 bytes is 13 MB per
# row, so the paper's models get 20 rows a pass.
_LOGITS_BYTES = 2**28
# Rows per pass when memory allows more: passes over prefixes skip the upper triangle's work and
# keep the tensors in cache. 200 characters, 2x128 GRU, 1,026 classes, 1 thread: 50 to 100 rows
# a pass ran within 7% of each other, one pass of all 200 rows 1.1 to 2.4 times slower.
_MAX_ROWS_PER_PASS = 64
# An entry above the diagonal larger than this fraction of the largest entry means the model
# reads the future (a bidirectional layer, say): connectivity assumes a left-to-right model.
_CAUSAL_RTOL = 1e-6


def connectivity(
    model: torch.nn.Module,
    inputs,
    targets,
    squared: bool = True,
    *,
    steps_per_pass: int | None = None,
) -> np.ndarray:
    """Connectivity of every input step t to every output step t̃ of one text: array [T_out, T_in].

    model: has `embedding` (an nn.Embedding over the 28 input symbols) and
        `logits_from_embeddings(emb [B, T, D]) -> logits [B, T, C]` (what `forward` does after the
        lookup). It runs in eval mode here and gets its own mode back afterwards.
    inputs: the text's symbol ids, [T] or [1, T] (a LongTensor, an array or a list).
    targets: the word id k the logit of which is differentiated at each step, same shape.
    squared: True sums the squares of ∂z/∂x(t) (the author's code); False takes the Euclidean norm
        (the article).
    steps_per_pass: output steps per backward pass (None: as many as `_LOGITS_BYTES` of logits and
        `_MAX_ROWS_PER_PASS` allow). Only speed and memory depend on it.

    Row t̃ holds the output step, column t the input step; entries with t > t̃ are 0. That is
    checked, not assumed: wherever a pass computes them (output step 0 always reads the whole
    text), a model whose output depends on later inputs raises ValueError. The dtype is the
    model's (float32, or float64 for a double model).
    """
    import torch

    tokens = _as_sequence(inputs, "inputs")
    words = _as_sequence(targets, "targets")
    if words.shape != tokens.shape:
        raise ValueError(
            f"targets has {words.numel()} steps but inputs has {tokens.numel()}: give one target "
            "word id per input character"
        )
    embedding = _embedding_of(model)
    n_symbols = embedding.weight.shape[0]
    _check_ids(tokens, n_symbols, "inputs", "symbol", "rows in the model's embedding")
    device = embedding.weight.device
    tokens, words = tokens.to(device), words.to(device)
    n_steps = tokens.numel()

    was_training = model.training
    model.eval()  # dropout off: every repeated row must compute the same function
    try:
        with torch.no_grad():
            embedded = embedding(tokens[None])  # [1, T, D]
            matrix = embedding.weight.detach()  # E [28, D]
            n_classes = _n_classes(model, embedded)
            readout = _readout(model, embedded)
        _check_ids(words, n_classes, "targets", "word", "output classes of the model")
        if steps_per_pass is None:
            # the tensor a pass holds per row and step: the logits, or the readout's input
            held = n_classes if readout is None else readout[1].shape[1]
            rows = _rows_per_pass(n_steps, held, embedded.element_size())
        else:
            rows = int(steps_per_pass)
        if rows < 1:
            raise ValueError(f"steps_per_pass must be at least 1, got {steps_per_pass}")
        grads = _embedding_gradients(model, embedded, words, rows, readout)  # [T_out, T_in, D]
    finally:
        model.train(was_training)

    with torch.no_grad():
        onehot_grads = grads @ matrix.T  # chain rule through e = x E: [T_out, T_in, 28]
        norms = onehot_grads.square().sum(-1)
        _check_causal(norms.sqrt())
        norms = norms.tril()  # the checked zeros above the diagonal, and the never-computed ones
        result = norms if squared else norms.sqrt()
    return result.cpu().numpy()


def normalise_rows(conn: np.ndarray) -> np.ndarray:
    """Each output step (row) divided by its largest entry over the inputs (the article's display).

    Rows that are all zero stay zero rather than become NaN.
    """
    conn = np.asarray(conn, dtype=float)
    if conn.ndim != 2:
        raise ValueError(f"connectivity must be a [T_out, T_in] matrix, got shape {conn.shape}")
    if np.any(conn < 0) or not np.all(np.isfinite(conn)):
        raise ValueError("connectivity must be finite and non-negative (a norm)")
    peak = conn.max(axis=1, keepdims=True)
    return np.divide(conn, peak, out=np.zeros_like(conn), where=peak > 0)


def top_predictions(model: torch.nn.Module, inputs, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The k most probable words after each character: (word ids [T, k], probabilities [T, k]),
    most probable first (the explorer's panel). Softmax over all classes of `model(inputs)`."""
    import torch

    tokens = _as_sequence(inputs, "inputs").to(_embedding_of(model).weight.device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            probs = torch.softmax(model(tokens[None])[0].double(), dim=-1)
    finally:
        model.train(was_training)
    if not 1 <= k <= probs.shape[-1]:
        raise ValueError(f"k must be between 1 and the {probs.shape[-1]} classes, got {k}")
    values, ids = probs.topk(k, dim=-1)
    return ids.cpu().numpy(), values.cpu().numpy()


def _embedding_gradients(model, embedded, words, rows: int, readout=None):
    """∂z_k(t̃)/∂e(t) of all pairs, [T_out, T_in, D]: one backward pass per `rows` output steps.

    readout: (hidden_from_embeddings, W) from `_readout`, or None to go through the logits.
    """
    import torch

    n_steps, width = embedded.shape[1], embedded.shape[2]
    # (first output step, last + 1, characters read): a pass reads only the prefix its outputs
    # can depend on; if the first pass does not read the whole text, output step 0 reads it once
    # more, so that the causality check sees a whole row of would-be-zero entries
    passes = [(a, min(n_steps, a + rows), min(n_steps, a + rows)) for a in range(0, n_steps, rows)]
    if passes[0][2] < n_steps:
        passes.append((0, 1, n_steps))
    grads = embedded.new_zeros(n_steps, n_steps, width)
    with torch.enable_grad(), _cudnn_off(embedded):
        for start, stop, length in passes:
            # row i reads the prefix [0, length) and owns output step start + i
            repeated = embedded[:, :length].repeat(stop - start, 1, 1).requires_grad_(True)
            own = torch.arange(stop - start, device=embedded.device)
            if readout is None:
                logits = model.logits_from_embeddings(repeated)
                picked = logits[own, start + own, words[start:stop]]
            else:  # z_k = W_k . h + b_k: only the picked logits, not all C of every step
                hidden_from_embeddings, weight = readout
                hidden = hidden_from_embeddings(repeated)[own, start + own]  # [rows, H]
                picked = (hidden * weight[words[start:stop]]).sum(-1)
            # rows are independent: the gradient of the sum w.r.t. row i is that of its own pick
            (grad,) = torch.autograd.grad(picked.sum(), repeated)
            grads[start:stop, :length] = grad
    return grads


def _rows_per_pass(n_steps: int, n_classes: int, itemsize: int) -> int:
    """Rows per pass: within the memory budget and the row cap, spread evenly over the passes."""
    fits = max(1, _LOGITS_BYTES // (n_steps * n_classes * itemsize))
    most = min(n_steps, fits, _MAX_ROWS_PER_PASS)
    passes = -(-n_steps // most)
    return -(-n_steps // passes)


def _check_causal(norms) -> None:
    above = norms.triu(1)
    if above.numel() and float(above.max()) > _CAUSAL_RTOL * float(norms.max()):
        t_out, t_in = divmod(int(above.argmax()), norms.shape[1])
        raise ValueError(
            f"the logit at output step {t_out} depends on the later input step {t_in}: "
            "connectivity needs a causal (left-to-right) model, not a bidirectional one"
        )


def _cudnn_off(tensor):
    """cuDNN refuses the RNN backward in eval mode; its non-cuDNN CUDA kernels do not."""
    import contextlib

    import torch

    if tensor.is_cuda:
        return torch.backends.cudnn.flags(enabled=False)
    return contextlib.nullcontext()


def _readout(model, embedded):
    """(model.hidden_from_embeddings, readout weight W [C, H]) when the model exposes its last
    layer as `readout` (an nn.Linear) and the logits are exactly readout(hidden), else None.

    Optional, beyond the contract: through the logits every pass computes and differentiates all
    C logits of every step of every row, which dominates at the paper's 16,386 classes; through
    W only the picked ones. Checked on the first two characters before it is trusted.
    """
    import torch

    hidden_from_embeddings = getattr(model, "hidden_from_embeddings", None)
    readout = getattr(model, "readout", None)
    if not callable(hidden_from_embeddings) or not isinstance(readout, torch.nn.Linear):
        return None
    probe = embedded[:, :2]
    try:
        via_readout = readout(hidden_from_embeddings(probe))
    except (RuntimeError, ValueError, TypeError):  # another meaning of the names: not ours
        return None
    logits = model.logits_from_embeddings(probe)
    if via_readout.shape != logits.shape or not torch.allclose(
        via_readout, logits, rtol=1e-5, atol=1e-6
    ):
        return None
    return hidden_from_embeddings, readout.weight.detach()


def _n_classes(model, embedded) -> int:
    """C, from the logits of the first character alone."""
    probe = model.logits_from_embeddings(embedded[:, :1])
    if probe.ndim != 3 or probe.shape[:2] != (1, 1):
        raise ValueError(
            "model.logits_from_embeddings must map [B, T, D] to logits [B, T, C]; for [1, 1, D] it"
            f" returned shape {tuple(probe.shape)}"
        )
    return int(probe.shape[-1])


def _embedding_of(model):
    import torch

    embedding = getattr(model, "embedding", None)
    if not isinstance(embedding, torch.nn.Embedding) or not hasattr(
        model, "logits_from_embeddings"
    ):
        raise TypeError(
            f"{type(model).__name__} does not follow the autocomplete contract: it needs an "
            "`embedding` (torch.nn.Embedding over the 28 input symbols) and a method "
            "`logits_from_embeddings(emb [B, T, D]) -> logits [B, T, C]`"
        )
    return embedding


def _check_ids(ids, count: int, name: str, what: str, of: str) -> None:
    bad = ids[(ids < 0) | (ids >= count)]
    if bad.numel():
        raise ValueError(
            f"{name} hold {what} id {int(bad[0])} but there are {count} {of} (ids 0..{count - 1})"
        )


def _as_sequence(values, name: str):
    """A 1-D int64 tensor from [T] or [1, T]."""
    import torch

    tensor = torch.as_tensor(values)
    if tensor.ndim == 2 and tensor.shape[0] == 1:
        tensor = tensor[0]
    if tensor.ndim != 1 or tensor.numel() == 0:
        raise ValueError(
            f"{name} must be one text, shape [T] or [1, T] with T >= 1; got {tuple(tensor.shape)}"
            " (call connectivity once per text)"
        )
    if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
        raise ValueError(f"{name} must hold integer ids, got dtype {tensor.dtype}")
    return tensor.long()


class _CallableModule(types.ModuleType):
    """The public entry point is `rnnatlas.analysis.connectivity(model, ...)`, yet once this
    module is imported Python binds that same dotted name to the module: calling the module calls
    the function, so both readings work whatever was imported first."""

    def __call__(self, *args, **kwargs) -> np.ndarray:
        return connectivity(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
