"""Spot-check campaigns (a city's round for a settlement period) and their sample draws."""
