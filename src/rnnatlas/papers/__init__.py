"""One package per paper: its data, steps, reference numbers, claims, figures and report section."""
