"""Importing voucher projects from XLSX and CSV, all or nothing."""
