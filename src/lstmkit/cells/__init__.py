"""Floor 1, the math: which variant (`CellSpec`) and the reference step functions.

No ``torch.nn`` modules and no loops over time live here; every engine and module
reads its equations from this package.
"""

from .functional import layer_norm, zoneout
from .masks import NO_MASKS, NO_STEP_MASKS, Masks, StepMasks
from .params import PARAM_NAMES, LayerParams
from .projection import input_projection
from .spec import CellSpec
from .step import step
from .variants import GREFF_VARIANTS, lstm_spec

__all__ = [
    "GREFF_VARIANTS",
    "NO_MASKS",
    "NO_STEP_MASKS",
    "PARAM_NAMES",
    "CellSpec",
    "LayerParams",
    "Masks",
    "StepMasks",
    "input_projection",
    "layer_norm",
    "lstm_spec",
    "step",
    "zoneout",
]
