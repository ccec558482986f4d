"""Benchmarks: bench/polls.py (runnable) and bench/bench_app.py (what it serves)."""
