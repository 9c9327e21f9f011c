"""What Koppula, Sim & Chin 2018 report (arXiv 1802.03816; body and code not available): the
abstract's statements ([text]). It gives no number. Facts, not code."""

PAPER = "Koppula, Sim & Chin 2018 (memory signatures)"
ABSTRACT = "[text] arXiv 1802.03816, abstract (body and code not available)"
