"""Garcia, Munz & Weiskopf 2021: visual analytics of LSTM hidden states (IMDB, Reuters)."""
