"""Koppula, Sim & Chin 2018: memory signatures of recurrent states."""
