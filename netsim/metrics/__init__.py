"""Collectors: the trace and counters of a run turned into tables, summaries and files."""
