"""RSVQA-LR questions about a synthetic scene, answered exactly from its scene graph.

Language: the templates and vocabulary of RSVQA-LR (Lobry et al., TGRS 2020): "Is there a small
water area?", "Is a circular residential building present?", "How many roads are there in the
image?", "What is the number of roads next to a water area?", "Are there more forests than
buildings?", "Is the number of water areas equal to the number of roads?", "Is it a rural or an
urban area". Object phrases are an RSVQA noun (``NOUNS``) with at most one attribute (small, medium,
large, circular, rectangular, square) and optionally one relation (``RELATIONS``) to another phrase.
Answers: presence and comp "yes"/"no"; count the raw number as a string (consumers bin it with
``rsvqa_answers.bin_count``); rural_urban from ``Scene.rural_urban``.

Balance rule (why: in the real data presence is 75 % "yes" and comp 67 % "no", so a model that
never looks at the image scores well). Every question of an image is chosen against a *contrast
scene*: an independent layout of a uniformly drawn other land-use class, so that image and contrast
are exchangeable (rsvqa_world.contrast_scene). A candidate phrase is built from one object of the image
or of the contrast (a fair coin picks which) and is kept only when its answer on the image differs
from its answer on the contrast (for counts: when the answers fall in different official bins).
The two scenes are exchangeable, so every question text is asked with each answer equally often in
expectation: presence and comp are 50/50 per question text, and no count bin takes more than half
of a question text's answers. The contrast only selects questions; answers come from the image.
This is the complementary-pairs idea of VQA v2 (Goyal et al., CVPR 2017) applied to scene graphs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from spatialnet.data.rsvqa.answers import bin_count
from spatialnet.data.synthetic.scene_graph import Scene, SceneObject, direction, next_to

RURAL_URBAN_QUESTION = "Is it a rural or an urban area"  # no question mark, as in the real files

# RSVQA noun -> (scene-graph kind, subtype or None for any subtype).
NOUNS: dict[str, tuple[str, str | None]] = {
    "building": ("building", None),
    "residential building": ("building", "residential"),
    "commercial building": ("building", "commercial"),
    "industrial building": ("building", "industrial"),
    "road": ("road", None),
    "water area": ("water area", None),
    "grass area": ("grass area", None),
    "forest": ("forest", None),
    "farmland": ("farmland", None),
    "parking": ("parking", None),
    "scrub": ("scrub", None),
    "beach": ("beach", None),
    "pier": ("pier", None),
    "runway": ("runway", None),
    "mobile home": ("mobile home", None),
    "storage tank": ("storage tank", None),
    "swimming pool": ("swimming pool", None),
    "tennis court": ("tennis court", None),
    "baseball diamond": ("baseball diamond", None),
    "bunker": ("bunker", None),
    "airplane": ("airplane", None),
    "tree": ("tree", None),
    "car": ("car", None),
    "boat": ("boat", None),
}
SIZE_WORDS: tuple[str, ...] = ("small", "medium", "large")
SHAPE_WORDS: tuple[str, ...] = ("circular", "rectangular", "square")  # "irregular" is never asked
# Relation phrase -> side of scene_graph.direction (None: scene_graph.next_to).
RELATIONS: dict[str, str | None] = {
    "next to": None,
    "on the left of": "left",
    "on the right of": "right",
    "at the top of": "top",
    "at the bottom of": "bottom",
}

PRESENCE_TEMPLATES: tuple[str, ...] = ("Is there {one}{where}?", "Is {one} present{where}?")
COUNT_TEMPLATES: tuple[str, ...] = (
    "How many {many} are there{where}?",
    "What is the number of {many}{where}?",
    "What is the amount of {many}{where}?",
)
COMP_TEMPLATES: dict[str, str] = {
    "more": "Are there more {a} than {b}{where}?",
    "less": "Are there less {a} than {b}{where}?",
    "equal": "Is the number of {a} equal to the number of {b}{where}?",
}
IN_THE_IMAGE = " in the image"

# Shares measured on the real val + test questions (20,009): question types (rural_urban is one per
# image), " in the image" suffixes, relational phrases and attributes.
TYPE_SHARES: dict[str, float] = {"presence": 0.3, "count": 0.3, "comp": 0.4}
IN_THE_IMAGE_SHARE = 0.1
RELATION_SHARE: dict[str, float] = {"presence": 0.1, "count": 0.1, "comp": 0.03}
ATTRIBUTE_SHARE: dict[str, float] = {"presence": 2 / 3, "count": 2 / 3, "comp": 0.2}
RELATED_ATTRIBUTE_SHARE = 0.15  # of relational phrases, the share with an attribute on either side
MAX_TRIES = 40  # candidates drawn per question before the slot is left empty


@dataclass(frozen=True)
class Phrase:
    """An object description: noun, optional attribute, optional relation to another phrase."""

    noun: str
    attribute: str | None = None
    relation: str | None = None
    other: Phrase | None = None

    def text(self, plural: bool = False) -> str:
        """The words, e.g. "circular residential building at the top of a road" ("buildings" if plural)."""
        noun = _plural(self.noun) if plural else self.noun
        head = f"{self.attribute} {noun}" if self.attribute else noun
        if self.relation is None or self.other is None:
            return head
        return f"{head} {self.relation} {_with_article(self.other.text())}"

    @property
    def family(self) -> str:
        """Template family for balance checks and baselines: relation, size, shape or plain."""
        if self.relation is not None:
            return "relation"
        if self.attribute in SIZE_WORDS:
            return "size"
        return "shape" if self.attribute in SHAPE_WORDS else "plain"

    def objects(self, scene: Scene) -> list[SceneObject]:
        """The objects of ``scene`` this phrase describes (its count is the answer to "how many")."""
        kind, subtype = NOUNS[self.noun]
        found = [
            o
            for o in scene.objects
            if o.kind == kind
            and (subtype is None or o.subtype == subtype)
            and self.attribute in (None, o.size, o.shape)
        ]
        if self.relation is None or self.other is None:
            return found
        related = self.other.objects(scene)
        holds = relation_test(self.relation, scene.image_size)
        return [a for a in found if any(b is not a and holds(a, b) for b in related)]


@dataclass(frozen=True)
class Question:
    """One question with its exact answer; ``template`` is "type/family" (e.g. "presence/size")."""

    type: str
    question: str
    answer: str
    template: str


def relation_test(relation: str, image_size: int) -> Callable[[SceneObject, SceneObject], bool]:
    """Predicate for "a <relation> b", by scene_graph.direction / scene_graph.next_to."""
    side = RELATIONS[relation]
    if side is None:
        return lambda a, b: next_to(a, b, image_size)
    return lambda a, b: side in direction(a, b)


def nouns_of(obj: SceneObject) -> tuple[str, ...]:
    """Every RSVQA noun that names ``obj`` (a residential building is also a "building")."""
    return _nouns(obj.kind, obj.subtype)


@cache
def _nouns(kind: str, subtype: str | None) -> tuple[str, ...]:
    return tuple(n for n, (k, sub) in NOUNS.items() if k == kind and (sub is None or sub == subtype))


def count_of(scene: Scene, phrase: Phrase) -> int:
    """Exact number of objects the phrase describes."""
    return len(phrase.objects(scene))


def comp_answer(scene: Scene, relation: str, a: Phrase, b: Phrase) -> str:
    """Answer to "more/less/equal" comparisons of the counts of ``a`` and ``b``."""
    na, nb = count_of(scene, a), count_of(scene, b)
    holds = {"more": na > nb, "less": na < nb, "equal": na == nb}[relation]
    return "yes" if holds else "no"


def question_quotas(num_questions: int) -> dict[str, int]:
    """Questions per type for one image: one rural_urban, the rest by TYPE_SHARES (largest remainder)."""
    if num_questions < 1:
        raise ValueError(f"questions per image must be >= 1, got {num_questions}")
    rest = num_questions - 1
    exact = {t: rest * share for t, share in TYPE_SHARES.items()}
    quotas = {t: int(v) for t, v in exact.items()}
    for t in sorted(exact, key=lambda t: quotas[t] - exact[t])[: rest - sum(quotas.values())]:
        quotas[t] += 1
    return {"rural_urban": 1, **quotas}


def generate_questions(
    scene: Scene, contrast: Scene, rng: np.random.Generator, num_questions: int
) -> list[Question]:
    """Up to ``num_questions`` distinct questions about ``scene``, selected against ``contrast``.

    Fewer come back when no balanced candidate is found within MAX_TRIES for a slot (rare).
    """
    out = [Question("rural_urban", RURAL_URBAN_QUESTION, scene.rural_urban, "rural_urban")]
    asked = {RURAL_URBAN_QUESTION}
    makers = {"presence": _presence, "count": _count, "comp": _comp}
    for qtype, quota in question_quotas(num_questions).items():
        if qtype == "rural_urban":
            continue
        for _ in range(quota):
            for _ in range(MAX_TRIES):
                q = makers[qtype](scene, contrast, rng)
                if q is not None and q.question not in asked:
                    asked.add(q.question)
                    out.append(q)
                    break
    return out


def _presence(scene: Scene, contrast: Scene, rng: np.random.Generator) -> Question | None:
    phrase = _propose(scene, contrast, rng, "presence")
    if phrase is None:
        return None
    here, there = count_of(scene, phrase) > 0, count_of(contrast, phrase) > 0
    if here == there:
        return None
    text = str(rng.choice(PRESENCE_TEMPLATES)).format(one=_with_article(phrase.text()), where=_where(rng))
    return Question("presence", text, "yes" if here else "no", f"presence/{phrase.family}")


def _count(scene: Scene, contrast: Scene, rng: np.random.Generator) -> Question | None:
    phrase = _propose(scene, contrast, rng, "count")
    if phrase is None:
        return None
    here, there = count_of(scene, phrase), count_of(contrast, phrase)
    if bin_count(here) == bin_count(there):
        return None
    text = str(rng.choice(COUNT_TEMPLATES)).format(many=phrase.text(plural=True), where=_where(rng))
    return Question("count", text, str(here), f"count/{phrase.family}")


def _comp(scene: Scene, contrast: Scene, rng: np.random.Generator) -> Question | None:
    a = _propose(scene, contrast, rng, "comp")
    b = _propose(scene, contrast, rng, "comp")
    if a is None or b is None or a.text() == b.text():
        return None
    relation = str(rng.choice(list(COMP_TEMPLATES)))
    answer = comp_answer(scene, relation, a, b)
    if answer == comp_answer(contrast, relation, a, b):
        return None
    text = COMP_TEMPLATES[relation].format(a=a.text(plural=True), b=b.text(plural=True), where=_where(rng))
    return Question("comp", text, answer, f"comp/{relation}")


def _propose(scene: Scene, contrast: Scene, rng: np.random.Generator, qtype: str) -> Phrase | None:
    """A phrase true of one object of the image or of the contrast (a fair coin picks which scene)."""
    source = scene if rng.random() < 0.5 else contrast
    subject = _pick_object(source.objects, rng)
    if subject is None:
        return None
    obj, noun = subject
    if rng.random() >= RELATION_SHARE[qtype]:
        return Phrase(noun, _attribute(obj, rng) if rng.random() < ATTRIBUTE_SHARE[qtype] else None)
    relation = str(rng.choice(list(RELATIONS)))
    holds = relation_test(relation, source.image_size)
    target = _pick_object([b for b in source.objects if b is not obj and holds(obj, b)], rng)
    if target is None:
        return None
    other, other_noun = target
    attribute_on = rng.choice(["none", "subject", "other"], p=_related_attribute_odds())
    return Phrase(
        noun,
        _attribute(obj, rng) if attribute_on == "subject" else None,
        relation,
        Phrase(other_noun, _attribute(other, rng) if attribute_on == "other" else None),
    )


def _pick_object(objects: Sequence[SceneObject], rng: np.random.Generator) -> tuple[SceneObject, str] | None:
    """A noun drawn uniformly among those naming ``objects``, then one object it names."""
    by_noun: dict[str, list[SceneObject]] = {}
    for o in objects:
        for n in nouns_of(o):
            by_noun.setdefault(n, []).append(o)
    if not by_noun:
        return None
    noun = sorted(by_noun)[int(rng.integers(len(by_noun)))]
    members = by_noun[noun]
    return members[int(rng.integers(len(members)))], noun


def _attribute(obj: SceneObject, rng: np.random.Generator) -> str | None:
    """The object's size or (when circular/rectangular/square) its shape, 50/50."""
    if obj.shape in SHAPE_WORDS and rng.random() < 0.5:
        return obj.shape
    return obj.size


def _related_attribute_odds() -> list[float]:
    half = RELATED_ATTRIBUTE_SHARE / 2
    return [1.0 - RELATED_ATTRIBUTE_SHARE, half, half]


def _where(rng: np.random.Generator) -> str:
    return IN_THE_IMAGE if rng.random() < IN_THE_IMAGE_SHARE else ""


def _with_article(text: str) -> str:
    return f"{'an' if text[0] in 'aeiou' else 'a'} {text}"


def _plural(noun: str) -> str:
    return noun + ("es" if noun.endswith(("ch", "sh", "s", "x")) else "s")
