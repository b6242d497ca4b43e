"""Realistic synthetic data for trying the system out."""
