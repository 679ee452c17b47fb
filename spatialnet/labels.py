"""Label conventions shared by datasets, heads and metrics."""

# torch's cross-entropy ignore index: a target that is not there (padding tokens, unlabelled
# pixels, removed classes). Losses skip it and metrics leave it out.
IGNORE_INDEX = -100
