"""The ``analyze`` experiment: tabulate recorded runs, gather their TensorBoard logs.

Settings (all optional; the filters are combined with "and"):

* ``source_dirs``: folders searched, recursively, for Sacred run directories
  (``config.json`` + ``run.json``). Runs of ``analyze`` itself are skipped.
* ``run_name``: only runs of this experiment (``run.json``'s
  ``experiment.name``, e.g. ``train_imitation``; Sacred's ``--name`` sets it).
* ``algo_names``: only runs of these commands (``run.json``'s ``command``,
  e.g. ``["bc", "gail"]``; RL runs have ``train_rl``).
* ``env_names``: only runs in these environments, each a Gymnasium id
  (``seals/CartPole-v0``), its folder name (``seals-CartPole-v0``) or an
  environment named config (``seals_cartpole``).
* ``statuses``: only runs with these statuses (e.g. ``["COMPLETED"]``).
* ``random_returns``: environment id -> mean return of a random policy. For
  runs in these environments the table gains ``normalized_score``:
  ``(imit - random) / (expert - random)``.
* ``csv_output_path``: ``analyze_imitation`` also writes the table there.
* ``print_markdown``: ``analyze_imitation`` prints the table as Markdown.
* ``tb_output_dir``: the folder ``gather_tb_directories`` fills with links.
"""

from __future__ import annotations

from typing import Any

import sacred

from imitation.scripts.config import common  # noqa: F401 (sets CAPTURE_MODE)

analysis_ex = sacred.Experiment("analyze")


@analysis_ex.config
def analyze_defaults() -> None:
    """Which runs to look at, and where to write the results."""
    source_dirs = ["output/sacred"]  # searched recursively for Sacred runs
    run_name = None  # only runs of this experiment, e.g. "train_imitation"
    algo_names = None  # only these commands, e.g. ["bc", "gail"]
    env_names = None  # only these environments (ids or named configs)
    statuses = None  # only runs with these statuses, e.g. ["COMPLETED"]
    random_returns = dict[str, Any]()  # env id -> random return (adds normalized_score)
    csv_output_path = None  # analyze_imitation: also write the table as CSV
    print_markdown = True  # analyze_imitation: print the table as Markdown
    tb_output_dir = "output/analyze/tensorboard"  # gather_tb_directories' links
