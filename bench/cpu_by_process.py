"""Where a command's CPU time goes: run it, read every process's CPU time from /proc every 2 s, sum by kind.

    .venv/bin/python bench/cpu_by_process.py -- .venv/bin/python -m pytest -q -n 2 --dist loadfile

Every process of the machine is read, not only the command's children: Chromium's renderers and Ray's
daemons are not the command's waited-for children, so `time` misses them. A process is counted by what
its command line names (Chromium, Playwright's driver, Ray, a pytest worker, a job worker, other Python);
one that starts and ends within 2 s between two readings is missed. Also reports how busy the cores were
(/proc/stat). Run it on an otherwise idle machine: everything that runs is counted.
"""

import collections
import os
import subprocess
import sys
import time
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
KINDS = (("chrom", "Chromium"), ("playwright", "Playwright's driver"), ("ray", "Ray"), ("gcs_server", "Ray"),
         ("jobs.worker", "job workers"), ("xdist", "pytest workers (with their app servers)"),
         ("pytest", "pytest"), ("python", "other Python"))


def kind(pid: str) -> str | None:
    """Return what process `pid` is, from its command line (None once it is gone)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    if "-c" in command.split() and "execnet" not in command and "pytest" not in command:
        command += " xdist"  # xdist starts its workers as `python -c <bootstrap>`
    return next((name for key, name in KINDS if key in command), "other")


def read(seen: dict) -> None:
    """Record every process's CPU seconds so far in `seen` ({(pid, start time): (kind, seconds)})."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        key = (pid, fields[19])
        what = seen[key][0] if key in seen else kind(pid)
        if what:
            seen[key] = (what, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)


def busy_and_all() -> tuple[float, float]:
    """Return (busy, all) CPU seconds of every core since boot (/proc/stat; idle and I/O wait are not busy)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / CLOCK_TICKS, sum(fields) / CLOCK_TICKS


def main(argv: list[str]) -> None:
    command = argv[argv.index("--") + 1:] if "--" in argv else argv
    if not command:
        raise SystemExit(__doc__)
    before: dict = {}
    read(before)
    seen = dict(before)
    busy0, all0 = busy_and_all()
    started = time.perf_counter()
    process = subprocess.Popen(command)
    while process.poll() is None:
        read(seen)
        time.sleep(2)
    read(seen)
    wall = time.perf_counter() - started
    busy1, all1 = busy_and_all()
    totals = collections.Counter()
    for key, (what, seconds) in seen.items():
        totals[what] += seconds - before.get(key, (what, 0.0))[1]
    print(f"\n{' '.join(command)}: exit {process.returncode}, {wall:.0f} s, the cores busy "
          f"{100 * (busy1 - busy0) / (all1 - all0):.0f}% of the time")
    for what, seconds in totals.most_common():
        print(f"{seconds:8.0f} s CPU  {what}")


if __name__ == "__main__":
    main(sys.argv[1:])
