"""Timing helpers the in-process benches share: calls timed side by side, and their median/p95 table."""

import statistics
import time


def milliseconds(fn) -> float:
    """Return how long one call of fn() took, in milliseconds."""
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def interleaved(rows, n: int) -> dict[str, list[float]]:
    """Time each (name, fn) of `rows` n times, round-robin after one warm-up call each; return sorted ms per name.

    Interleaved, so a noisy moment of the machine costs every row alike and their ratios hold.
    """
    for _, fn in rows:  # warm up (fonts, caches)
        fn()
    results = {name: [] for name, _ in rows}
    for _ in range(n):
        for name, fn in rows:
            results[name].append(milliseconds(fn))
    return {name: sorted(times) for name, times in results.items()}


def print_table(results: dict[str, list[float]], heading: str) -> None:
    """Print a Markdown table of each row's median and p95 (milliseconds) under a `heading` column."""
    print(f"| {heading} | median | p95 |")
    print("|---|---|---|")
    for name, times in results.items():
        print(f"| {name} | {statistics.median(times):.2f} ms | {times[int(0.95 * (len(times) - 1))]:.2f} ms |")
