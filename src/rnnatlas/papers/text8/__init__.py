"""Madsen 2019 (Distill): visualizing memorization in RNNs, text8 autocomplete."""
