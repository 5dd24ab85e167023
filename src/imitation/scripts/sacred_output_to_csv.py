"""One CSV line per benchmark run: ``algo,env,score,expert_score``.

Run ``python -m imitation.scripts.sacred_output_to_csv output/sacred > summary.csv``
(or ``imitation-sacred-output-to-csv``). Every Sacred run directory below the
given folders is read (following links, each run once; see
:mod:`imitation.scripts._benchmark_runs`); runs that did not complete or
recorded no score are skipped, with a count on stderr. ``expert_score`` is
empty for runs that recorded none.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from typing import TextIO

from imitation.scripts import _benchmark_runs

PROG = "sacred_output_to_csv"
COLUMNS = ("algo", "env", "score", "expert_score")


def write_csv(runs: Sequence[_benchmark_runs.BenchmarkRun], out: TextIO) -> None:
    """Write the header and one line per run to ``out``."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for run in runs:
        expert = "" if run.expert_score is None else repr(run.expert_score)
        writer.writerow([run.algo, run.env, repr(run.score), expert])


def main(argv: Sequence[str] | None = None) -> None:
    """Print the CSV of the runs below the folders in ``argv`` to stdout."""
    parser = _benchmark_runs.run_dirs_parser(PROG, __doc__)
    args = parser.parse_args(argv)
    loaded = _benchmark_runs.load_runs(args.run_dirs)
    _benchmark_runs.note(PROG, loaded.skip_message())
    write_csv(loaded.runs, sys.stdout)


def main_console() -> None:
    """Entry point of ``imitation-sacred-output-to-csv``."""
    _benchmark_runs.run_tool(PROG, main)


if __name__ == "__main__":  # pragma: no cover
    main_console()
