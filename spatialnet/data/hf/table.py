"""One split of a Hugging Face dataset, opened from a folder, parquet files or the hub.

``data.root`` of an ``hf_*`` dataset is read as (first match wins):

- a ``save_to_disk`` folder (``dataset_dict.json``: its splits; ``state.json``: one table);
- a parquet file (one table), or a folder of them, at its top or under ``data/``: the file
  ``train.parquet`` or the shards ``train-00000-of-00002.parquet`` are split ``train``;
- otherwise a hub name (``owner/name``), loaded with ``load_dataset`` — online only.

A single table holds every split when a column names each row's split (``data.hf.split_column``,
or a column ``split``). Errors name the source, the split and, for a missing column, the
columns that are there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

from spatialnet.config import HFConfig
from spatialnet.data.images import EncodedImage, ImageSource
from spatialnet.errors import DataError

SPLIT_COLUMN = "split"  # the split column of a single table when data.hf.split_column is not set
_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_MAX_LISTED = 12


@dataclass(frozen=True)
class HFTable:
    """The rows of one split; ``where`` ("ROOT [split 'train']") starts every message about them."""

    rows: datasets.Dataset
    where: str
    folder: Path | None  # where relative image paths are read from (None for a hub dataset)

    @property
    def columns(self) -> list[str]:
        """The table's column names."""
        return list(self.rows.column_names)

    def __len__(self) -> int:
        return len(self.rows)

    def require(self, name: str, option: str) -> str:
        """``name`` when the table has that column; else a DataError naming it, the option and the columns."""
        if name not in self.rows.column_names:
            raise DataError(
                f"{self.where}: no column '{name}' ({option}); the columns are: {', '.join(self.columns)}"
            )
        return name

    def find(self, given: str | None, conventional: Sequence[str], option: str) -> str | None:
        """The column ``given`` (it must exist), else the first ``conventional`` name present, else None."""
        if given is not None:
            return self.require(given, option)
        return next((name for name in conventional if name in self.rows.column_names), None)

    def values(self, name: str) -> list[Any]:
        """Every row's value of column ``name``, undecoded (class labels as integers)."""
        column = self.rows.select_columns([name])
        feature = column.features[name]
        if isinstance(feature, datasets.Image):
            column = column.cast_column(name, datasets.Image(decode=False))
        return list(column[name])

    def feature(self, name: str) -> Any:
        """The ``datasets`` feature of column ``name`` (ClassLabel, Value, Image, List …)."""
        return self.rows.features[name]

    def images(self, name: str, option: str) -> list[ImageSource]:
        """Each row's image as the file's bytes (an Image column, raw bytes) or a file path."""
        self.require(name, option)
        return [self._image(value, row, name) for row, value in enumerate(self.values(name))]

    def _image(self, value: Any, row: int, name: str) -> ImageSource:
        where = f"{self.where} row {row}"
        path: Any = None
        if isinstance(value, dict):  # an Image column: {"bytes", "path"}
            path = value.get("path")
            value = value.get("bytes") or path
        if isinstance(value, bytes | bytearray):
            return EncodedImage(bytes(value), f"{where} ({path})" if path else where)
        if isinstance(value, str) and value:
            file = Path(value).expanduser()
            if not file.is_absolute() and self.folder is not None:
                file = self.folder / file
            return file
        raise DataError(
            f"{where}: column '{name}' holds {type(value).__name__}; expected an image (an Image feature, "
            "the file's bytes or a file path)"
        )


def open_split(root: str, split: str, config: HFConfig) -> HFTable:
    """The rows of ``split`` of the dataset at ``root`` (see the module docstring for the forms)."""
    path = Path(root).expanduser()
    if path.exists():
        tables, folder = _open_local(path, split, config), path if path.is_dir() else path.parent
    else:
        tables, folder = _open_hub(root, config), None
    return _select(tables, split, config, str(root), folder)


def _open_local(path: Path, split: str, config: HFConfig) -> dict[str, datasets.Dataset]:
    """Tables by split (one table under "" when the source has no splits)."""
    if path.is_dir() and ((path / "dataset_dict.json").is_file() or (path / "state.json").is_file()):
        loaded = datasets.load_from_disk(str(path))
        return dict(loaded) if isinstance(loaded, datasets.DatasetDict) else {"": loaded}
    if path.is_file() and path.suffix == ".parquet":
        return {"": _read_parquet([path])}
    shards = parquet_splits(path) if path.is_dir() else {}
    if not shards:
        raise DataError(
            f"{path}: not a Hugging Face dataset; expected a save_to_disk folder (dataset_dict.json or "
            "state.json), a .parquet file, or a folder of <split>.parquet files (at its top or under data/)"
        )
    if config.split_column is None and split in shards:  # read only the split asked for
        return {split: _read_parquet(shards[split])}
    return {name: _read_parquet(files) for name, files in shards.items()}


def parquet_splits(folder: Path) -> dict[str, list[Path]]:
    """The parquet files of ``folder`` (or ``folder/data``) by split: the file name up to its first '-'."""
    files = sorted(folder.glob("*.parquet")) or sorted((folder / "data").glob("*.parquet"))
    shards: dict[str, list[Path]] = {}
    for file in files:
        shards.setdefault(file.stem.split("-")[0], []).append(file)
    return shards


def _read_parquet(files: list[Path]) -> datasets.Dataset:
    """One table from parquet shards; the features (Image, ClassLabel) come from the files' metadata."""
    try:
        table = pa.concat_tables([pq.read_table(file, memory_map=True) for file in files])
    except (pa.ArrowException, OSError) as err:
        raise DataError(f"{files[0]}: not a readable parquet file ({err})") from err
    return datasets.Dataset(table)


def _open_hub(name: str, config: HFConfig) -> dict[str, datasets.Dataset]:
    """Every split of hub dataset ``name`` (downloaded, or from the local cache when offline)."""
    if not _HUB_NAME.match(name):
        raise DataError(
            f"{name}: no such file or folder (data.root: a dataset folder, parquet or a hub name)"
        )
    try:
        loaded = datasets.load_dataset(name, config.config_name)
    except Exception as err:  # offline, unknown name, gated: datasets raises many kinds
        raise DataError(
            f"{name}: no such file or folder, and loading it as a Hugging Face hub dataset failed "
            f"({type(err).__name__}: {err})"
        ) from err
    return dict(loaded) if isinstance(loaded, datasets.DatasetDict) else {"": loaded}


def _select(
    tables: dict[str, datasets.Dataset], split: str, config: HFConfig, root: str, folder: Path | None
) -> HFTable:
    """The split's rows: a split of the source, or the rows whose split column says ``split``."""
    column = config.split_column
    if column is None and set(tables) == {""} and SPLIT_COLUMN in tables[""].column_names:
        column = SPLIT_COLUMN
    if column is None:
        if split in tables:
            return HFTable(tables[split], f"{root} [split '{split}']", folder)
        if set(tables) == {""}:
            raise DataError(
                f"{root}: one table without splits (columns: {', '.join(tables[''].column_names)}); name the "
                "column holding each row's split with data.hf.split_column, or give a DatasetDict folder or "
                "one parquet file per split"
            )
        raise DataError(f"{root}: no split '{split}'; available splits: {', '.join(sorted(tables))}")
    chosen = []
    for name, table in tables.items():
        where = f"{root} [split '{name}']" if name else root
        HFTable(table, where, folder).require(column, "data.hf.split_column")
        rows = [i for i, value in enumerate(table[column]) if value == split]
        if rows:
            chosen.append(table.select(rows))
    if not chosen:
        found = sorted({str(v) for table in tables.values() for v in table.unique(column)})
        listed = ", ".join(found[:_MAX_LISTED]) + (", ..." if len(found) > _MAX_LISTED else "")
        raise DataError(f"{root}: no rows with {column} = '{split}'; the column holds: {listed}")
    rows = chosen[0] if len(chosen) == 1 else datasets.concatenate_datasets(chosen)
    return HFTable(rows, f"{root} [{column} = '{split}']", folder)
