"""What the memory section observes without judging it: comparisons the paper names but whose
outcome it does not state (so they are not claims, and no verdict is given)."""

from __future__ import annotations

import html
from collections.abc import Mapping

from rnnatlas.papers.memory import figures as figures_memory
from rnnatlas.papers.memory.claims import family_rows, memory_areas


def ngram_versus_recurrent(tables: Mapping, config: Mapping) -> str:
    """A paragraph ranking the text8 memory areas of the n-gram windows and of each recurrent
    model's top-layer h ("" when the tables lack either)."""
    rows = family_rows(tables, config, "text8")
    if rows.empty:
        return ""
    models = figures_memory.ordered_models(rows["model"])
    grams = [m for m in models if figures_memory.ngram_order(m) is not None]
    picked = [(m, figures_memory.ngram_state(rows.loc[rows["model"] == m, "state"]))
              for m in grams]  # fmt: skip
    recurrent = []
    for model in models:
        if model not in grams:
            top = figures_memory.top_layer_h(rows.loc[rows["model"] == model, "state"])
            if top is not None:
                recurrent.append((model, top))
    if not grams or not recurrent:
        return ""
    areas = memory_areas(rows)
    ranked = sorted(picked + recurrent, key=lambda p: -areas[p])
    order = " &gt; ".join(f"{html.escape(figures_memory.label(*p))} {areas[p]:.3f}" for p in ranked)
    largest = max(picked, key=lambda p: areas[p])
    above = [p for p in recurrent if areas[p] > areas[largest]]
    return (
        "<p><b>Observation</b> (the abstract names the comparison of n-gram and recurrent "
        "language models' memory without stating its outcome, so it is not a claim): memory "
        f"areas on text8, {order}. {len(above)} of {len(recurrent)} recurrent models' top-layer "
        f"h remember more than the largest n-gram window "
        f"({html.escape(figures_memory.label(*largest))}).</p>"
    )
