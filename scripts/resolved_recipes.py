"""Every shipped recipe resolved (``base:`` parts merged): write them, or compare with an earlier dump.

A refactoring of recipes into parts must leave what each recipe resolves to unchanged:

    git stash && python scripts/resolved_recipes.py --out /tmp/before.json && git stash pop
    python scripts/resolved_recipes.py --compare /tmp/before.json

``--compare`` lists every key that changed (was → now) and any change of head or dataset order (it
decides the order heads are built in, hence their initial weights); exit status 1 if any.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from spatialnet.config import load_recipe, recipe_changes, recipe_names, to_dict
from spatialnet.files import write_json


def resolved() -> dict[str, dict[str, Any]]:
    """Each shipped recipe's name and its resolved values."""
    return {name: to_dict(load_recipe(name)) for name in recipe_names()}


def differences(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> list[str]:
    """``'recipe: change'`` lines; recipes added or removed count too."""
    lines = [f"{name}: removed" for name in before if name not in after]
    lines += [f"{name}: added" for name in after if name not in before]
    for name in sorted(set(before) & set(after)):
        lines += [f"{name}: {change}" for change in recipe_changes(before[name], after[name])]
        for part in ("heads", "datasets"):
            if list(before[name][part]) != list(after[name][part]):
                lines.append(f"{name}: {part} order {list(before[name][part])} → {list(after[name][part])}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the resolved recipes here (JSON)")
    parser.add_argument("--compare", type=Path, help="an earlier --out to compare with")
    args = parser.parse_args()
    now = resolved()
    if args.out:
        write_json(args.out, now)
    if args.compare:
        lines = differences(json.loads(args.compare.read_text(encoding="utf-8")), now)
        print("\n".join(lines) if lines else f"{len(now)} recipes resolve to the same values")
        return 1 if lines else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
