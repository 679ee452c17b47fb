"""What the app says about each question set: a label a person picks it by, and template questions.

A set's title comes from its registration (:class:`~spatialnet.data.question_sets.QuestionSet`);
the line beside it and the templates (shown when no real questions of the set are on this machine)
are the app's words, kept here in one place.
"""

from __future__ import annotations

from spatialnet.data.question_sets import question_set
from spatialnet.errors import SpatialNetError

SET_NOTES: dict[str, str] = {
    "rsivqa": "aerial photos (theme, counts in words, locations)",
    "rsvqa_lr": "Sentinel-2 tiles (yes/no, count bins, rural/urban)",
}
# the datasets' own wordings, one question per type
TEMPLATE_QUESTIONS: dict[str, tuple[str, ...]] = {
    "rsvqa_lr": (
        "How many buildings are there?",
        "Is there a road?",
        "Are there more buildings than water areas?",
        "Is it a rural or an urban area?",
    ),
    "rsivqa": (
        "What is the theme of this picture?",
        "Does this picture contain an airplane?",
        "How many cars in the picture?",
        "What is the location of the trees in this picture?",
    ),
}


def set_label(name: str) -> str:
    """Question set ``name`` as a person reads it: its title and what it asks about."""
    try:
        title = question_set(name).title
    except SpatialNetError:  # a set this installation does not register: its name is all we know
        title = name
    note = SET_NOTES.get(name)
    return f"{title} — {note}" if note else title
