"""The synthetic world as RSIVQA's UC Merced part: five questions per image, answered from the scene graph.

Zheng, X., Wang, B., Du, X., Lu, X. "Mutual Attention Inception Network for Remote Sensing Visual
Question Answering." IEEE TGRS 2021. Written to ``DIR/rsivqa_ucm/ucm_res.txt`` in the real file's
format, one ``N.tif:QUESTION?ANSWER`` line per question (N: the image ``ucm_captions/imgs/N.jpg``),
images in id order, each with the real file's five questions in its order:

- theme: "What is the theme of this picture?" → the class in RSIVQA's words (``THEME_WORDS``);
- presence, twice: "Does this picture contain an airplane?" → "yes"/"no", two different objects;
- count: "How many cars in the picture?" → the exact number in words ("zero", "twenty-two");
- location: "What is the location of the boats in this picture?" → ``location_phrase`` of the 3×3
  grid cells holding the objects' centres ("center", "left and right", "i cannot see it").

Objects are the scene graph's kinds in ``OBJECT_WORDS`` (location questions: ``LOCATED_KINDS``).
A kind is not asked about in a scene that holds a kind a person calls by the same name
(``CALLED_ALIKE``: a forest area is "trees", mobile homes are "buildings"), so each answer is the
one a person would give. Draws: each presence question is "yes" or "no" by a fair coin (the other
answer when no object fits); the count and location questions ask about an object the image holds
with probability ``PRESENT_SHARE``, else about one it lacks ("zero", "i cannot see it"); the object
is drawn uniformly among those that fit. Scenes with no object to ask about (farmland, beach,
chaparral, forest, river and runway scenes hold none; a location needs a phrase for its cells)
always get an absent one, so over a world about a third of presence answers are "yes", ~40 % of
counts "zero" and ~55 % of locations "i cannot see it" (seed 1, 210 images). Unlike the real file,
whose test images' questions are held out, every image of every split has its questions. Each
image's draws come from the generator the caller passes in (world.py: RSIVQA_STREAM, per image).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spatialnet.data.rsivqa.files import FOLDER_NAME, QUESTIONS_FILE
from spatialnet.data.rsivqa.questions import QUESTION_TYPES
from spatialnet.data.synthetic.questions import Question
from spatialnet.data.synthetic.rsvqa_world import SPLITS
from spatialnet.data.synthetic.scene_graph import Scene, SceneObject

# The class in RSIVQA's words: ucm_res.txt's where it names the class (it asks only 7 classes; its
# "airport" for airplane), ucm_vqa.txt's for the others.
THEME_WORDS: dict[str, str] = {
    "agricultural": "farmland",
    "airplane": "airport",
    "baseballdiamond": "baseball diamond",
    "beach": "beach",
    "buildings": "buildings",
    "chaparral": "chaparral",
    "denseresidential": "dense residential",
    "forest": "forest",
    "freeway": "freeway",
    "golfcourse": "golf course",
    "harbor": "harbor",
    "intersection": "intersection",
    "mediumresidential": "medium residential",
    "mobilehomepark": "mobile home park",
    "overpass": "overpass",
    "parkinglot": "parking lot",
    "river": "river",
    "runway": "runway",
    "sparseresidential": "sparse residential",
    "storagetanks": "storage tanks",
    "tenniscourt": "tennis court",
}
# Scene-graph kind -> (what a presence question names, the plural count and location questions use),
# in the real file's words ("Does this picture contain an airplane?", "... contain trees?").
OBJECT_WORDS: dict[str, tuple[str, str]] = {
    "airplane": ("an airplane", "airplanes"),
    "boat": ("boats", "boats"),
    "building": ("buildings", "buildings"),
    "car": ("cars", "cars"),
    "mobile home": ("mobile homes", "mobile homes"),
    "parking": ("parking lots", "parking lots"),
    "road": ("roads", "roads"),
    "storage tank": ("storage tanks", "storage tanks"),
    "swimming pool": ("swimming pools", "swimming pools"),
    "tennis court": ("tennis courts", "tennis courts"),
    "tree": ("trees", "trees"),
}
# Kinds whose centre says where they are: not roads, which cross the image whatever their centre.
LOCATED_KINDS: frozenset[str] = frozenset(OBJECT_WORDS) - {"road"}
# Kind -> kinds a person also calls by its name: where a scene holds one, the kind is not asked
# ("How many trees?" has no exact answer over a forest area).
CALLED_ALIKE: dict[str, frozenset[str]] = {
    "tree": frozenset({"forest"}),
    "building": frozenset({"mobile home"}),
}

THEME_QUESTION = "What is the theme of this picture?"
PRESENCE_QUESTION = "Does this picture contain {}?"
COUNT_QUESTION = "How many {} in the picture?"
LOCATION_QUESTION = "What is the location of the {} in this picture?"
PRESENCE_QUESTIONS = 2  # per image, about two different objects, as the real file
PRESENT_SHARE = 0.75  # count/location questions about an object the image holds (real: ~20 % absent)

GRID = 3  # location cells per side
# Cell (row, column) -> its name in the real file's words.
CELL_NAMES: dict[tuple[int, int], str] = {
    (0, 0): "upper left",
    (0, 1): "up",
    (0, 2): "upper right",
    (1, 0): "left",
    (1, 1): "center",
    (1, 2): "right",
    (2, 0): "lower left",
    (2, 1): "bottom",
    (2, 2): "lower right",
}
# Sets of cells the real file names as a whole.
NAMED_CELL_SETS: dict[frozenset[tuple[int, int]], str] = {
    frozenset(CELL_NAMES): "everywhere",
    frozenset({(0, 0), (0, 2), (2, 0), (2, 2)}): "four corners",
    frozenset({(0, 0), (1, 1), (2, 2)}): "main diagonal",
    frozenset({(0, 2), (1, 1), (2, 0)}): "minor diagonal",
}
MAX_LISTED_CELLS = 3  # more cells than this (and no name for the set) have no phrase
NOT_SEEN = "i cannot see it"

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


@dataclass
class RsivqaSummary:
    """What was written: the questions file, and the questions per split and type."""

    path: Path
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    questions: dict[str, list[Question]] = field(default_factory=dict)

    @property
    def num_questions(self) -> int:
        """All questions over all splits."""
        return sum(sum(c.values()) for c in self.counts.values())


def number_words(n: int) -> str:
    """``n`` in words as RSIVQA writes counts: "zero", "twenty-two", "one hundred five" (0 ≤ n < 10⁶)."""
    if not 0 <= n < 1_000_000:
        raise ValueError(f"number_words takes 0 <= n < 1,000,000, got {n}")
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    big, rest, unit = (n // 1000, n % 1000, "thousand") if n >= 1000 else (n // 100, n % 100, "hundred")
    return f"{number_words(big)} {unit}" + (f" {number_words(rest)}" if rest else "")


def grid_cells(objects: Iterable[SceneObject], image_size: int) -> frozenset[tuple[int, int]]:
    """The (row, column) cells of a GRID × GRID split of the image that hold an object's centre.

    Cell of a centre (x, y): (floor(GRID·y / size), floor(GRID·x / size)), capped at GRID − 1, so a
    centre on a line between cells belongs to the lower / right one.
    """

    def cell(v: float) -> int:
        return min(GRID - 1, max(0, int(GRID * v // image_size)))

    return frozenset((cell(o.centre[1]), cell(o.centre[0])) for o in objects)


def location_phrase(cells: frozenset[tuple[int, int]]) -> str | None:
    """Where the cells are, in the real file's words; None when the set has no phrase.

    No cell: "i cannot see it". A set the real file names (NAMED_CELL_SETS): that name
    ("everywhere", "four corners", "main diagonal", "minor diagonal"). Up to MAX_LISTED_CELLS other
    cells: their names (CELL_NAMES) from left to right, top to bottom within a column, joined as the
    real file joins them ("left and right", "lower left and upper right", "up, center and bottom").
    """
    if not cells:
        return NOT_SEEN
    if cells in NAMED_CELL_SETS:
        return NAMED_CELL_SETS[cells]
    if len(cells) > MAX_LISTED_CELLS:
        return None
    names = [CELL_NAMES[c] for c in sorted(cells, key=lambda rc: (rc[1], rc[0]))]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def askable(scene: Scene) -> list[str]:
    """The kinds of OBJECT_WORDS a question may name in ``scene`` (none called alike is present)."""
    present = set(scene.counts())
    return [kind for kind in OBJECT_WORDS if not CALLED_ALIKE.get(kind, frozenset()) & present]


def draw_rsivqa_questions(scene: Scene, rng: np.random.Generator) -> list[Question]:
    """The five questions of ``scene`` (theme, two presence, count, location) with exact answers.

    ``template`` is "type/kind" (the class for theme questions).
    """
    counts = scene.counts()
    kinds = askable(scene)
    out = [Question("theme", THEME_QUESTION, THEME_WORDS[scene.landuse], f"theme/{scene.landuse}")]
    asked: list[str] = []
    for _ in range(PRESENCE_QUESTIONS):
        free = [k for k in kinds if k not in asked]
        yes = [k for k in free if counts.get(k, 0) > 0]
        no = [k for k in free if counts.get(k, 0) == 0]
        kind = _pick(yes, no, rng.random() < 0.5, rng)
        asked.append(kind)
        answer = "yes" if counts.get(kind, 0) else "no"
        out.append(
            Question("presence", PRESENCE_QUESTION.format(OBJECT_WORDS[kind][0]), answer, f"presence/{kind}")
        )
    present = [k for k in kinds if counts.get(k, 0) > 0]
    absent = [k for k in kinds if counts.get(k, 0) == 0]
    kind = _pick(present, absent, rng.random() < PRESENT_SHARE, rng)
    text = COUNT_QUESTION.format(OBJECT_WORDS[kind][1])
    out.append(Question("count", text, number_words(counts.get(kind, 0)), f"count/{kind}"))
    located = [k for k in kinds if k in LOCATED_KINDS]
    phrases = {k: location_phrase(grid_cells(scene.of_kind(k), scene.image_size)) for k in located}
    placed = [k for k in located if counts.get(k, 0) > 0 and phrases[k] is not None]
    unseen = [k for k in located if counts.get(k, 0) == 0]
    kind = _pick(placed, unseen, rng.random() < PRESENT_SHARE, rng)
    text = LOCATION_QUESTION.format(OBJECT_WORDS[kind][1])
    out.append(Question("location", text, str(phrases[kind]), f"location/{kind}"))
    return out


def _pick(first: Sequence[str], second: Sequence[str], take_first: bool, rng: np.random.Generator) -> str:
    """A uniform draw from ``first`` if ``take_first`` else from ``second`` (the other if one is empty)."""
    pool = first if (take_first and first) or not second else second
    if not pool:
        raise ValueError("no object kind to ask about")  # OBJECT_WORDS exceeds what one scene holds
    return pool[int(rng.integers(len(pool)))]


def question_line(scene: Scene, question: Question) -> str:
    """One line of ucm_res.txt: ``N.tif:QUESTION?ANSWER`` (N from the scene's ``N.jpg``)."""
    return f"{Path(scene.filename).stem}.tif:{question.question}{question.answer}"


class RsivqaWriter:
    """Collects each image's questions in id order and writes ``rsivqa_ucm/ucm_res.txt`` on close."""

    def __init__(self, out: Path) -> None:
        self.path = Path(out) / FOLDER_NAME / QUESTIONS_FILE
        self._lines: list[str] = []
        self._by_split: dict[str, list[Question]] = {}
        self._images = 0

    def add(self, scene: Scene, questions: Sequence[Question]) -> None:
        """Add image ``scene.image_id`` (ids must come in order 0, 1, ...) with its questions."""
        if scene.image_id != self._images:
            raise ValueError(
                f"RSIVQA images must be added in id order: got {scene.image_id}, expected {self._images}"
            )
        self._images += 1
        self._lines += [question_line(scene, q) for q in questions]
        self._by_split.setdefault(scene.split, []).extend(questions)

    def close(self) -> RsivqaSummary:
        """Write the file (LF line ends, a final newline, as the real file) and summarise it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("".join(f"{line}\n" for line in self._lines), encoding="utf-8")
        summary = RsivqaSummary(path=self.path)
        for split in SPLITS:
            questions = self._by_split.get(split, [])
            found = Counter(q.type for q in questions)
            summary.counts[split] = {t: found.get(t, 0) for t in QUESTION_TYPES}
            summary.questions[split] = list(questions)
        return summary
