"""Accounts, roles and who may see which city."""
