"""Run every benchmark in bench/ in turn and print their figures (the source of BENCHMARKS.md).

    .venv/bin/python bench/run_all.py [--quick] [--list]

Each bench runs with the options BENCHMARKS.md gives its figures for. --quick runs each with its
smallest options instead, for a smoke run (its figures are not the recorded ones); --list prints the
commands without running them. The modules in HELPERS are not benches (other benches import them) and
are the only files of bench/ left out; a new bench is added to `runs` or the script refuses to start.
"""

import argparse
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# Modules the benches import, with nothing to measure of their own.
HELPERS = {
    "__init__.py": "makes bench/ a package",
    "run_all.py": "this script",
    "reference_vae.py": "the pytorch/examples VAE recipe that train_speed.py and vae_vs_reference.py train",
    "timing.py": "the in-process benches' timing helpers",
    "photos.py": "the synthetic phone photos that photo_accuracy.py and the photo tests render",
}


def runs(quick: bool) -> list[list[str]]:
    """Return each bench's command line (script, options), the smallest options when `quick`."""
    def pick(full: list[str], small: list[str]) -> list[str]:
        return small if quick else full

    return [
        ["checkpoint_figures.py"],
        ["train_speed.py", *pick([], ["--repeats", "1"])],
        ["vae_vs_reference.py", *pick([], ["--epochs", "20", "--ref-epochs", "20", "--iwae-k", "100"])],
        ["photo_accuracy.py", *pick([], ["--n", "50"])],
        # The real digits are a development set kept beside the project, not in it: elsewhere, name a folder.
        ["real_digits.py", "../shared/real_digits_dev"],
        ["vae_real_digits.py", "../shared/real_digits_dev"],
        ["writer_figures.py", *pick([], ["--per-class", "10", "--repeats", "3", "--k", "100"])],
        ["nll_samples.py", *pick([], ["--ks", "100"])],
        ["figure_speed.py", *pick(["-n", "60"], ["-n", "10"])],
        ["inpage_latency.py", *pick([], ["-n", "20", "--server-n", "10"])],
        ["full_view.py", *pick([], ["-n", "40"])],
        ["page_get.py", *pick([], ["-n", "20", "--bursts", "1"])],
        ["page_load.py", *pick([], ["-n", "3"])],
        # The test suite's CPU by process kind (BENCHMARKS.md, "The test suite's time"): `make test`'s command.
        ["cpu_by_process.py", "--", sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadfile",
         *pick(["-m", "not extended"], ["tests/test_printed.py"])],
        ["rnn_cells.py", *pick([], ["--epochs", "3"])],
        ["slider_latency.py", *pick([], ["-n", "40"])],
        ["latency_under_training.py", *pick([], ["--n", "40"])],
        ["mnist5k_load.py"],
        ["ae_vs_vae.py", *pick([], ["-n", "200"])],
        ["class_sim.py", *pick(["--seconds", "300", "--warmup", "150"], ["--seconds", "30", "--warmup", "10"])],
        ["class_train.py", "--idle", *pick(["30"], ["10"])],
        ["follow_long_jobs.py", *pick(["--rounds", "3"], ["--n", "20", "--followers", "5"])],
        ["identical_answers.py", *pick([], ["--clients", "10", "--decodes", "5", "--uploads", "2"])],
        ["soak.py", *pick(["--seconds", "300"], ["--seconds", "30"])],
    ]


def left_out(commands: list[list[str]]) -> list[str]:
    """Return the scripts of bench/ that neither run nor are listed in HELPERS."""
    run = {command[0] for command in commands}
    return sorted(p.name for p in BENCH.glob("*.py") if p.name not in run and p.name not in HELPERS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="each bench with its smallest options (a smoke run)")
    parser.add_argument("--list", action="store_true", help="print the commands and exit")
    args = parser.parse_args()
    commands = runs(args.quick)
    missing = left_out(commands)
    if missing:
        print(f"bench/run_all.py runs neither of {', '.join(missing)}: add each to runs() or to HELPERS.",
              file=sys.stderr)
        return 2
    failed = []
    for script, *options in commands:
        print(f"\n$ .venv/bin/python bench/{script} {' '.join(options)}".rstrip(), flush=True)
        if not args.list and subprocess.call([sys.executable, str(BENCH / script), *options]) != 0:
            failed.append(script)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
