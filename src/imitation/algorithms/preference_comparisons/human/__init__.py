"""Preferences from a person: clips of both fragments, side by side in a browser.

:class:`HumanGatherer` is a ``PreferenceGatherer`` that serves a local web page
(:mod:`.webapp`), renders each pair of fragments to two short clips
(:mod:`.rendering`) and keeps every answer in a durable JSON-lines log
(:mod:`.answer_log`). See ``docs/human-preferences.md``.
"""

from imitation.algorithms.preference_comparisons.human.answer_log import (
    CHOICES,
    AnswerLog,
)
from imitation.algorithms.preference_comparisons.human.gatherer import (
    MODES,
    HumanGatherer,
)
from imitation.algorithms.preference_comparisons.human.rendering import (
    Renderer,
    StateRenderer,
    render_fragment,
    write_clips,
)

__all__ = [
    "CHOICES",
    "MODES",
    "AnswerLog",
    "HumanGatherer",
    "Renderer",
    "StateRenderer",
    "render_fragment",
    "write_clips",
]
