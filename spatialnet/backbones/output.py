"""What a backbone hands to the task heads."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor


@dataclass
class BackboneOutput:
    """Encoder features of one batch.

    ``tokens`` are the patch tokens (B, N, D) in row-major grid order, ``prefix`` the class
    (and register) tokens (B, P, D), ``pooled`` the pooled vector (B, D) and ``grid`` the
    (rows, cols) of the patch grid, so dense heads can fold tokens back into a map.

    ``maps`` holds per-pixel feature maps (B, C, h, w) by task family for backbones that decode
    them themselves: seed 000's classification and regression decoders, or one ``"shared"`` map
    (the Pham CNN's 1×1 "map" of its shared FC features).
    """

    tokens: Tensor
    prefix: Tensor
    pooled: Tensor
    grid: tuple[int, int]
    patch_size: int
    maps: dict[str, Tensor] = field(default_factory=dict)

    @classmethod
    def from_feature_map(cls, features: Tensor, input_height: int, maps: dict[str, Tensor]) -> BackboneOutput:
        """The output of a CNN: its deepest (B, C, h, w) features as tokens and their mean as ``pooled``."""
        batch, dim, rows, cols = features.shape
        return cls(
            tokens=features.flatten(2).transpose(1, 2),
            prefix=features.new_zeros((batch, 0, dim)),
            pooled=features.mean(dim=(2, 3)),
            grid=(rows, cols),
            patch_size=max(1, input_height // rows),
            maps=maps,
        )

    def pixel_map(self, family: str) -> Tensor:
        """The feature map a per-pixel head of ``family`` reads (B, C, h, w).

        The family's own decoder map if the backbone has one, else its ``"shared"`` map, else
        the patch tokens folded back into their grid (a ViT).
        """
        if family in self.maps:
            return self.maps[family]
        if "shared" in self.maps:
            return self.maps["shared"]
        return self.token_map()

    def token_map(self) -> Tensor:
        """Patch tokens (B, N, D) folded back into a (B, D, rows, cols) feature map."""
        batch, count, dim = self.tokens.shape
        rows, cols = self.grid
        if rows * cols != count:
            raise ValueError(f"token count {count} does not match the patch grid {rows}×{cols}")
        return self.tokens.transpose(1, 2).reshape(batch, dim, rows, cols)
