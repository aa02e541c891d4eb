"""`make bench` (bench/run_all.py) runs every bench in bench/, or names it as a helper module with a reason."""

import subprocess
import sys

from conftest import ROOT

from bench import run_all


def test_every_bench_in_bench_is_run_or_named_as_a_helper():
    for quick in (False, True):
        assert run_all.left_out(run_all.runs(quick)) == []
    assert all((run_all.BENCH / name).is_file() for name in run_all.HELPERS)  # no stale name


def test_a_bench_file_run_all_does_not_know_stops_it_with_a_sentence(tmp_path, monkeypatch):
    (tmp_path / "new_bench.py").write_text("")
    monkeypatch.setattr(run_all, "BENCH", tmp_path)
    assert run_all.left_out(run_all.runs(False)) == ["new_bench.py"]


def test_list_prints_every_command_without_running_them():
    listed = subprocess.run([sys.executable, str(ROOT / "bench" / "run_all.py"), "--list", "--quick"],
                            capture_output=True, text=True, timeout=60, check=True).stdout
    assert listed.count("$ .venv/bin/python bench/") == len(run_all.runs(True))
