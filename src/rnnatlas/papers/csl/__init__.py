"""Variengien & Hinaut 2020: ESN vs LSTM on the cross-situational language task, with Juven
& Hinaut 2020's ESN numbers."""
