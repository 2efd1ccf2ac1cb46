"""cnnlib: the shared library of the interactive book *CNN Architectures*.

Chapters import what they use from the submodules (``cnnlib.models``,
``cnnlib.analysis``, ``cnnlib.data``, ``cnnlib.train``, ``cnnlib.plot``,
``cnnlib.widgets``, ``cnnlib.timing``); the names used most are re-exported here.

**Names for sizes**, the same everywhere in ``cnnlib``:

* ``image_shape`` — ``(C, H, W)`` of one image (a registry entry's
  ``ModelInfo.image_shape``, ``ImageDataset.image_shape``);
* ``image_size`` — the side of a square image, an int (a fully connected
  network's ``image_size``, the receptive-field widget's photo);
* ``input_size`` — the full shape of a model's input, batch included,
  ``(N, C, H, W)``, torchinfo's convention (every function of
  :mod:`cnnlib.analysis`, :func:`cnnlib.timing.forward_latency`);
* ``size`` — one spatial side of a layer's input in convolution arithmetic
  (:func:`cnnlib.analysis.conv_output_size`, the ``ConvArithmetic`` widget).

**Every registered model** takes ``num_classes``, ``in_channels``,
``small_input`` and ``width_multiplier`` (see :mod:`cnnlib.models`).
"""

from cnnlib.analysis import conv_output_size, count_macs, count_params, summary
from cnnlib.models import get_model, list_models, register_model
from cnnlib.train import budget, device

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "budget",
    "conv_output_size",
    "count_macs",
    "count_params",
    "device",
    "get_model",
    "summary",
    "list_models",
    "register_model",
]
