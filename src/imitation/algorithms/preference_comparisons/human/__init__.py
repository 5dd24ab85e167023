"""Preferences from a person: clips of both fragments, side by side in a browser.

:class:`HumanGatherer` is a ``PreferenceGatherer`` that serves a local web page
(:mod:`.webapp`), renders each pair of fragments to two short clips
(:mod:`.rendering`) and keeps every answer in a durable JSON-lines log
(:mod:`.answer_log`). :class:`HumanLabeller` uses the same server, rendering
and log to let a person label states as DAgger's expert (:mod:`.labelling`),
and :class:`HumanPlayer` to let a person play, recording demonstrations
(:mod:`.playing`).
See ``docs/human-preferences.md`` and ``docs/human-teachers.md``.
"""

from imitation.algorithms.preference_comparisons.human.answer_log import (
    CHOICES,
    AnswerLog,
)
from imitation.algorithms.preference_comparisons.human.gatherer import (
    MODES,
    HumanGatherer,
)
from imitation.algorithms.preference_comparisons.human.labelling import (
    HumanLabeller,
    LabelLog,
)
from imitation.algorithms.preference_comparisons.human.playing import (
    HumanPlayer,
    PlayLog,
)
from imitation.algorithms.preference_comparisons.human.rendering import (
    ImageRenderer,
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
    "HumanLabeller",
    "HumanPlayer",
    "ImageRenderer",
    "LabelLog",
    "PlayLog",
    "Renderer",
    "StateRenderer",
    "render_fragment",
    "write_clips",
]
