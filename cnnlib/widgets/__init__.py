"""Interactive widgets that keep working without a kernel.

Each widget is an :class:`anywidget.AnyWidget` whose JavaScript (the ``.js``
file beside its Python module) draws the picture and does the small arithmetic
itself, so it responds in Jupyter, in Colab and in the static HTML book alike.
Their state lives in traitlets: ``w.dilation`` is readable and settable from
Python, and ``w.observe(...)`` sees changes made in the browser.
"""

from cnnlib.widgets.conv_arithmetic import ConvArithmetic
from cnnlib.widgets.dilated_stack import DilatedStack
from cnnlib.widgets.grouped_conv import GroupedConv
from cnnlib.widgets.model_receptive_field import ModelReceptiveField

__all__ = ["ConvArithmetic", "DilatedStack", "GroupedConv", "ModelReceptiveField"]
