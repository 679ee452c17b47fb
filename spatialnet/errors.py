"""Error types whose messages name the file or key at fault and what was expected."""


class SpatialNetError(Exception):
    """Base class: the CLI prints these as one line instead of a traceback."""


class RecipeError(SpatialNetError, ValueError):
    """A recipe key is unknown, missing or of the wrong type."""


class DataError(SpatialNetError, ValueError):
    """A data file is missing, unreadable or not in the expected format."""


class CheckpointError(SpatialNetError, ValueError):
    """A checkpoint directory is missing files or does not match its recipe."""
