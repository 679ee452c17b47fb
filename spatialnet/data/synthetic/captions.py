"""Captions in the style of UCM-captions (Qu et al., 2016), generated from a scene graph.

UCM sentences are short, end in " ." and repeat a few templates per class. Here each class has
several templates filled from the graph, so every count and colour a caption states is true of the
image. Quantities follow one rule everywhere (``count_phrase``): counts of the object a sentence is
about are exact — "a"/"one" for 1, spelled numbers up to NUMBER_WORD_MAX, "many" above — while
secondary mentions (``vague_phrase``) say "a", "some" (2 to NUMBER_WORD_MAX) or "many".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np

from spatialnet.data.synthetic.classes import AREA_PHRASE
from spatialnet.data.synthetic.scene_graph import Scene

CAPTIONS_PER_IMAGE = 5
NUMBER_WORD_MAX = 9
NUMBER_WORDS: tuple[str, ...] = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
MANY_WORD = "many"
# A word that states a count, mapped to the count (None: "many", i.e. more than NUMBER_WORD_MAX).
COUNT_WORDS: dict[str, int | None] = {
    **{w: i for i, w in enumerate(NUMBER_WORDS)},
    "a": 1,
    "an": 1,
    MANY_WORD: None,
}
BUSY_CARS = 10  # an intersection with at least this many cars is "busy"
FULL_PARKING_CARS_PER_KPX = 1.6  # cars per 1000 px² of parking above which few spaces are free
SPECIFIC_WEIGHT = 3.0  # class-specific templates are drawn this many times more often than generic ones


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def count_phrase(n: int, singular: str, plural: str) -> str:
    """Exact quantity + noun: "one airplane", "three airplanes", "many airplanes" (> NUMBER_WORD_MAX)."""
    if n == 1:
        return f"one {singular}"
    if n <= NUMBER_WORD_MAX:
        return f"{NUMBER_WORDS[n]} {plural}"
    return f"{MANY_WORD} {plural}"


def vague_phrase(n: int, singular: str, plural: str) -> str:
    """Quantity for secondary mentions: "a tree", "some trees" (2–9), "many trees" (≥ 10)."""
    if n == 1:
        return f"{_article(singular)} {singular}"
    if n <= NUMBER_WORD_MAX:
        return f"some {plural}"
    return f"{MANY_WORD} {plural}"


def _cap(s: str) -> str:
    return s[0].upper() + s[1:]


def _majority_colour(scene: Scene, kind: str) -> str | None:
    colours = Counter(o.colour for o in scene.of_kind(kind) if o.colour)
    return colours.most_common(1)[0][0] if colours else None


class _Facts:
    """Quantities of one scene that templates need, read once from the graph."""

    def __init__(self, scene: Scene):
        self.scene = scene
        self.c = scene.counts()
        self.area = AREA_PHRASE[scene.landuse]
        if scene.landuse == "tenniscourt" and self.n("tennis court") != 1:
            self.area = "tennis club"  # "This is a tennis court ." would miscount several courts
        self.the_area = f"the {self.area}"

    def n(self, kind: str) -> int:
        return self.c.get(kind, 0)

    def colour(self, kind: str) -> str | None:
        return _majority_colour(self.scene, kind)


def _agricultural(f: _Facts) -> list[str]:
    n = f.n("farmland")
    colour = f.colour("farmland")
    out = ["There is a piece of farmland .", "It is a piece of cropland .", "Here is a piece of farmland ."]
    if n > 1:
        out += [
            f"There are {count_phrase(n, 'piece', 'pieces')} of farmland .",
            f"{_cap(count_phrase(n, 'field', 'fields'))} of crops are arranged in strips .",
        ]
    else:
        out += [f"It is a piece of {colour} farmland .", "A large field of crops arranged in strips ."]
    if f.n("road"):
        out.append("A dirt road goes between the fields .")
    return out


def _airplane(f: _Facts) -> list[str]:
    n, colour, cars = f.n("airplane"), f.colour("airplane"), f.n("car")
    if n == 1:
        out = [
            "There is an airplane at the airport .",
            f"A {colour} airplane is parked at the airport .",
            "One airplane is stopped at the airport .",
        ]
    else:
        p = count_phrase(n, "airplane", "airplanes")
        out = [
            f"There are {p} at the airport .",
            f"{_cap(p)} are parked at the airport .",
            f"{_cap(p.replace(' airplanes', f' {colour} airplanes'))} are stopped at the airport .",
        ]
    plane = "airplane" if n == 1 else "airplanes"
    if cars:
        out.append(
            f"There are {vague_phrase(cars, 'car', 'cars')} beside the {plane} .".replace(
                "are a car", "is a car"
            )
        )
    else:
        out.append(f"There are no cars beside the {plane} .")
    if f.n("grass area"):
        out.append(f"The {plane} {'is' if n == 1 else 'are'} parked on the apron next to a grass area .")
    else:
        out.append(f"The {plane} {'is' if n == 1 else 'are'} parked on the grey apron .")
    return out


def _baseballdiamond(f: _Facts) -> list[str]:
    trees = f.n("tree")
    out = [
        "There is a baseball diamond .",
        "This is a baseball field with a sand infield .",
        "A baseball diamond is surrounded by green lawn .",
    ]
    if trees:
        out.append(f"A baseball field with {vague_phrase(trees, 'tree', 'trees')} around it .")
    if f.n("road"):
        out.append("A baseball field is beside the road .")
    if f.n("building"):
        out.append("A baseball diamond with a building beside it .")
    return out


def _beach(f: _Facts) -> list[str]:
    sand = f.colour("beach") or "white"
    out = [
        f"This is a beach with blue sea and {sand} sands .",
        f"Waves slapping a {sand} sand beach .",
        "Waves beat the beach and throw up white foams .",
        "This is a beach with waves .",
    ]
    if f.n("grass area"):
        out.append("There is a beach between the sea and the grass .")
    else:
        out.append(f"A {sand} sand beach is next to the blue sea .")
    return out


def _buildings(f: _Facts) -> list[str]:
    n, colour, cars = f.n("building"), f.colour("building"), f.n("car")
    p = count_phrase(n, "building", "buildings")
    be = "is" if n == 1 else "are"
    out = [f"There {be} {p} with {colour} roofs .", f"{_cap(p)} and a road .", f"{_cap(p)} close to a road ."]
    if cars:
        out.append(f"There {be} {p} and {vague_phrase(cars, 'car', 'cars')} .")
    if f.n("parking"):
        out.append("There is a parking lot with cars near the buildings .")
    out.append("There is a road between the buildings .")
    return out


def _chaparral(f: _Facts) -> list[str]:
    out = [
        "This is a chaparral .",
        "Many plants scattered on the ground .",
        "Many plants scattered in the loess ground .",
        "There are some grey plants scattered on the ground .",
        "Some grey shrubs are scattered in the yellow ground .",
    ]
    if f.n("road"):
        out.append("A dirt road goes through the chaparral .")
    return out


def _residential(f: _Facts, kind: str = "building", noun: tuple[str, str] = ("house", "houses")) -> list[str]:
    n, colour, roads, trees = f.n(kind), f.colour(kind), f.n("road"), f.n("tree")
    p = count_phrase(n, *noun)
    out = [
        f"This is {_article(f.area)} {f.area} .",
        f"There are {p} arranged neatly in {f.the_area} .",
        f"{_cap(p)} with {colour} roofs and {count_phrase(roads, 'road', 'roads')} .",
        f"It is {_article(f.area)} {f.area} with {p} and {vague_phrase(trees, 'tree', 'trees')} ."
        if trees
        else f"It is {_article(f.area)} {f.area} with {p} and no trees .",
        f"{_cap(p)} arranged in lines and {count_phrase(roads, 'road goes', 'roads go')} through this area .",
    ]
    pools = f.n("swimming pool")
    if pools:
        out.append(f"{_cap(f.the_area)} has {count_phrase(pools, 'swimming pool', 'swimming pools')} .")
    return out


def _mobilehomepark(f: _Facts) -> list[str]:
    n, trees = f.n("mobile home"), f.n("tree")
    p = count_phrase(n, "mobile home", "mobile homes")
    out = [
        f"{_cap(p)} arranged in lines in the mobile home park .",
        f"{_cap(p)} are close to each other .",
        f"There are {p} and {count_phrase(f.n('road'), 'road', 'roads')} in the mobile home park .",
        f"{_cap(p)} arranged in lines and some roads go through this area .",
    ]
    out.append(
        f"{_cap(p)} with {vague_phrase(trees, 'tree', 'trees')} around ."
        if trees
        else f"{_cap(p)} with no trees around ."
    )
    return out


def _forest(f: _Facts) -> list[str]:
    kind = f.scene.of_kind("forest")[0].subtype if f.n("forest") else "dense"
    out = [
        "This is a dense forest with dark green trees .",
        "A dense forest with lots of green plants .",
        f"There is a {kind} forest .",
        "This is a forest with lots of green plants in the shadow .",
    ]
    out.append(
        "There is a forest with a small grass area in it ."
        if f.n("grass area")
        else "A dense forest with dark green plants ."
    )
    return out


def _freeway(f: _Facts) -> list[str]:
    cars = f.n("car")
    roads = f.scene.of_kind("road")
    lanes = int(round((roads[0].width or 0) / (12 * f.scene.image_size / 256))) if roads else 0
    cp = count_phrase(cars, "car", "cars")
    out = [
        "There are two straight freeways close to each other .",
        f"There are two freeways with {cp} on them .",
        f"{_cap(cp)} {'is' if cars == 1 else 'are'} on the freeways .",
        f"Two freeways with {NUMBER_WORDS[min(lanes, NUMBER_WORD_MAX)]} lanes each .",
    ]
    trees = f.n("tree")
    out.append(
        f"Two straight freeways with {vague_phrase(trees, 'tree', 'trees')} beside them ."
        if trees
        else "Two straight freeways with no trees beside them ."
    )
    return out


def _golfcourse(f: _Facts) -> list[str]:
    trees, bunkers = f.n("tree"), f.n("bunker")
    out = [
        "This is a part of a golf course with green turfs .",
        f"There are green turfs and {vague_phrase(trees, 'tree', 'trees')} in the golf course ."
        if trees
        else "There are green turfs and no trees in the golf course .",
        f"A golf course with {count_phrase(bunkers, 'bunker', 'bunkers')} ."
        if bunkers
        else "A golf course with no bunkers .",
        "A part of a golf course with a green and a fairway .",
        "A trail goes through the turfs of the golf course .",
    ]
    if f.n("water area"):
        out.append("A golf course with a pond .")
    return out


def _harbor(f: _Facts) -> list[str]:
    boats, piers = f.n("boat"), f.n("pier")
    p = count_phrase(boats, "boat", "boats")
    out = [
        f"{_cap(p)} docked at the harbor .",
        f"{_cap(p)} docked in lines at the harbor .",
        f"There are {count_phrase(piers, 'pier', 'piers')} and {p} in the harbor .",
        f"{_cap(p)} docked neatly at the harbor and the water is deep blue .",
        f"{_cap(p)} docked neatly at the harbor and some positions are free .",
    ]
    return out


def _intersection(f: _Facts) -> list[str]:
    cars, houses = f.n("car"), f.n("building")
    busy = "busy" if cars >= BUSY_CARS else "desolate"
    out = [
        f"An intersection with {count_phrase(cars, 'car', 'cars')} on the road ."
        if cars
        else "An intersection with no cars on the road .",
        "An intersection with two roads vertical to each other .",
        f"A {busy} intersection with {vague_phrase(f.n('tree'), 'tree', 'trees')} at the corners ."
        if f.n("tree")
        else f"A {busy} intersection with no trees at the corners .",
        f"There are {count_phrase(houses, 'building', 'buildings')} at the corners of the intersection ."
        if houses
        else "There are no buildings at the corners of the intersection .",
        f"A {busy} intersection with white crosswalks .",
    ]
    return out


def _overpass(f: _Facts) -> list[str]:
    cars = f.n("car")
    bridge = [o for o in f.scene.of_kind("road") if o.subtype == "overpass"]
    lower = [o for o in f.scene.of_kind("road") if o.subtype == "freeway"]
    how = "diagonally"
    if bridge and lower:
        d = abs((bridge[0].angle - lower[0].angle) % 180.0 - 90.0)
        how = "vertically" if d < 15 else "diagonally"
    out = [
        "An overpass with a road going across another road .",
        f"An overpass with {count_phrase(cars, 'car', 'cars')} on the roads ."
        if cars
        else "An overpass with no cars on the roads .",
        f"A road goes across another road {how} .",
        f"An overpass with a road going across another road {how} .",
        f"An overpass surrounded by {vague_phrase(f.n('tree'), 'tree', 'trees')} ."
        if f.n("tree")
        else "An overpass surrounded by dry grass .",
    ]
    return out


def _parkinglot(f: _Facts) -> list[str]:
    cars = f.n("car")
    lots = f.scene.of_kind("parking")
    area = sum(o.area for o in lots) * (256.0 / f.scene.image_size) ** 2
    full = cars / max(area / 1000.0, 1e-6) >= FULL_PARKING_CARS_PER_KPX
    free = "a few" if full else "many"
    p = count_phrase(cars, "car", "cars")
    out = [
        f"{_cap(p)} parked in the parking lot .",
        f"{_cap(p)} parked neatly in lines in the parking lot .",
        f"It is a parking lot with {p} and {free} free parking spots .",
        f"{_cap(p)} parked with {free} empty parking spaces in the parking lot .",
        f"There are {p} in the parking lot .",
    ]
    return out


def _river(f: _Facts) -> list[str]:
    forests, grass = f.n("forest"), f.n("grass area")
    colour = f.colour("water area") or "green"
    if forests >= 2:
        banks = "dense forest on both banks of the river"
    elif forests == 1:
        banks = "dense forest on one bank and grass on the other side"
    else:
        banks = "grass on both banks of the river"
    out = [
        f"It is a river with {banks} .",
        f"A {colour} river with {banks} .",
        "Green plants flourish on both banks of the river ."
        if forests + grass >= 2
        else "Green plants flourish on the banks of the river .",
        f"A river goes through a {'dense forest' if forests else 'grass land'} .",
        "A river goes through this area .",
    ]
    if f.n("beach"):
        out.append("A river with a sandbank beside the water .")
    return out


def _runway(f: _Facts) -> list[str]:
    colour = f.colour("runway") or "grey"
    out = [
        "It is a straight runway with some mark lines on it .",
        "A straight runway with white mark lines on it .",
        f"There are some mark lines on the straight {colour} runway .",
        "A runway with grass on both sides ." if f.n("road") == 0 else "A runway with a taxiway beside it .",
        f"It is a straight {colour} runway .",
    ]
    return out


def _sparseresidential(f: _Facts) -> list[str]:
    n, colour, trees, pools = f.n("building"), f.colour("building"), f.n("tree"), f.n("swimming pool")
    house = "house" if n == 1 else "houses"
    p = count_phrase(n, "house", "houses")
    be = "is" if n == 1 else "are"
    out = [
        f"{_cap(p)} {be} surrounded by trees and lawn in the sparse residential area .",
        f"This is a sparse residential area with {p} surrounded by trees and lawn .",
        f"{_cap(p)} with {colour} roofs {be} in the sparse residential area .",
        f"This is a sparse residential area with {p} and {vague_phrase(trees, 'tree', 'trees')} ."
        if trees
        else f"This is a sparse residential area with {p} and no trees .",
    ]
    if pools:
        out.append(f"{_cap(p)} with {count_phrase(pools, 'swimming pool', 'swimming pools')} beside .")
    else:
        out.append(f"{_cap(p)} with plants surrounded {be} in the sparse residential area .")
    del house
    return out


def _storagetanks(f: _Facts) -> list[str]:
    n, colour = f.n("storage tank"), f.colour("storage tank")
    ground = "lawn" if f.scene.background == "grass" else "bare ground"
    p = count_phrase(n, "storage tank", "storage tanks")
    be = "is" if n == 1 else "are"
    out = [
        f"{_cap(p)} {be} on the {ground} .",
        f"There {be} {p} on the {ground} .",
        f"There {be} {p.replace('storage', f'{colour} storage')} .",
        f"{_cap(p.replace('storage', 'round storage'))} {be} on the {ground} .",
    ]
    buildings = f.n("building")
    out.append(
        f"{_cap(p)} with {vague_phrase(buildings, 'building', 'buildings')} beside ."
        if buildings
        else f"{_cap(p)} with no buildings beside ."
    )
    return out


def _tenniscourt(f: _Facts) -> list[str]:
    n, colour, trees = f.n("tennis court"), f.colour("tennis court"), f.n("tree")
    p = count_phrase(n, "tennis court", "tennis courts")
    be = "is" if n == 1 else "are"
    plants = vague_phrase(trees, "tree", "trees") if trees else "no trees"
    out = [
        f"{_cap(p)} with {plants} surrounded .",
        f"{_cap(p)} {be} surrounded by {plants} .",
        f"There {be} {p.replace('tennis', f'{colour} tennis')} .",
        f"There {be} {p} arranged neatly ." if n > 1 else f"There {be} {p} with white lines .",
    ]
    out.append(
        f"{_cap(p)} with a house beside ." if f.n("building") else f"This is {p} surrounded by grass ."
    )
    return out


CAPTION_RULES: dict[str, Callable[[_Facts], list[str]]] = {
    "agricultural": _agricultural,
    "airplane": _airplane,
    "baseballdiamond": _baseballdiamond,
    "beach": _beach,
    "buildings": _buildings,
    "chaparral": _chaparral,
    "denseresidential": _residential,
    "forest": _forest,
    "freeway": _freeway,
    "golfcourse": _golfcourse,
    "harbor": _harbor,
    "intersection": _intersection,
    "mediumresidential": _residential,
    "mobilehomepark": _mobilehomepark,
    "overpass": _overpass,
    "parkinglot": _parkinglot,
    "river": _river,
    "runway": _runway,
    "sparseresidential": _sparseresidential,
    "storagetanks": _storagetanks,
    "tenniscourt": _tenniscourt,
}


def candidate_captions(scene: Scene) -> tuple[list[str], int]:
    """All distinct true sentences for a scene, class-specific first, and how many are specific."""
    f = _Facts(scene)
    area = f.area
    generic = [
        f"This is {_article(area)} {area} .",
        f"It is {_article(area)} {area} .",
        f"Here is {_article(area)} {area} .",
        f"There is {_article(area)} {area} .",
        f"This image shows {_article(area)} {area} .",
    ]
    specific = list(dict.fromkeys(CAPTION_RULES[scene.landuse](f)))
    return specific + [s for s in generic if s not in specific], len(specific)


def captions(scene: Scene, rng: np.random.Generator, k: int = CAPTIONS_PER_IMAGE) -> list[str]:
    """``k`` different sentences for a scene, class templates preferred over the generic ones."""
    pool, specific = candidate_captions(scene)
    weights = np.array([SPECIFIC_WEIGHT if i < specific else 1.0 for i in range(len(pool))])
    idx = rng.choice(len(pool), size=k, replace=False, p=weights / weights.sum())
    return [pool[int(i)] for i in sorted(idx)]


def tokens(raw: str) -> list[str]:
    """Lower-cased words of a caption without its final period (the ``tokens`` field)."""
    words = raw.split()
    if words and words[-1] == ".":
        words = words[:-1]
    return [w.lower() for w in words]
