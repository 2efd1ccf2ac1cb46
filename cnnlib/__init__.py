"""cnnlib: the shared library of the interactive book *CNN Architectures*.

Chapters import what they use from the submodules; the names used most are
re-exported here.
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
