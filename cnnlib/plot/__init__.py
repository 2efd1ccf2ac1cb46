"""Matplotlib figures for the chapters, by topic.

* :mod:`~cnnlib.plot.training` — learning curves and example images;
* :mod:`~cnnlib.plot.filters` — learned filters and feature maps as image grids;
* :mod:`~cnnlib.plot.costs` — where a network's parameters and MACs sit, per layer;
* :mod:`~cnnlib.plot.network` — a network's data flow as stacks of feature maps.

Chapter-specific figures live in further modules here. Every function returns
the :class:`matplotlib.figure.Figure` it drew.
"""

from cnnlib.plot.costs import layer_costs
from cnnlib.plot.filters import show_feature_maps, show_filters
from cnnlib.plot.network import data_flow
from cnnlib.plot.training import plot_history, show_images

__all__ = [
    "plot_history",
    "show_images",
    "show_filters",
    "show_feature_maps",
    "layer_costs",
    "data_flow",
]
