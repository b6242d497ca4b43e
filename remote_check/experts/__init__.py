"""The expert pool, shared across cities, with the ties that make conflicts of interest."""
