"""Exact counts for convolutional networks: conv arithmetic, parameters, MACs,
FLOPs, memory access cost and receptive fields.

Conventions, stated once and used everywhere in the book:

* **MACs** are multiply–accumulate operations of convolutions, linear layers
  and matrix products, bias additions excluded. This is torchvision's ``_ops``
  convention and equals half the total of
  :class:`torch.utils.flop_counter.FlopCounterMode`. **FLOPs** are ``2 × MACs``.
  Element-wise work (batch norm, activations, pooling, additions) is reported
  separately by :func:`count_flops`, never mixed into MACs.
* **Memory access cost** (:func:`memory_access_cost`) is ShuffleNetV2's "MAC":
  tensor elements read and written. It never shares the name MACs.
* ``input_size`` is the full input shape **including the batch dimension**
  (torchinfo's convention), so counts are for the whole batch.
* **Receptive fields** follow Araujo, Norris and Sim (Distill, 2019): per
  spatial axis, ``r ← r + (k_eff − 1)·j``, ``j ← j·s`` and the start of the
  first unit's field ``start ← start − p·j``, with ``k_eff = d(k − 1) + 1``.
  Where paths meet (additions, concatenations) the field is the union of the
  paths' fields, which is their maximum when the paths are aligned.

Every analysis of a model reads one :class:`Trace`: :func:`trace` runs one
forward pass on zeros of ``input_size`` in eval mode under ``torch.no_grad``,
on the device and dtype of the model's parameters (a model on the ``meta``
device is analysed without any arithmetic), and records every operation and
leaf-module call. :func:`count_macs`, :func:`summary` and the others trace
once and read the result; to get several analyses from one pass, call
:func:`trace` and the results' ``from_trace``.

Modules: :mod:`~cnnlib.analysis.arithmetic` (output sizes),
:mod:`~cnnlib.analysis.formulas` (closed forms for one layer),
:mod:`~cnnlib.analysis.fields` (receptive-field records),
:mod:`~cnnlib.analysis.dilation` (holes in stacks of dilated convolutions),
:mod:`~cnnlib.analysis.rules` (what each torch operation does),
:mod:`~cnnlib.analysis.tracer` (the trace), :mod:`~cnnlib.analysis.counts`,
:mod:`~cnnlib.analysis.receptive` and :mod:`~cnnlib.analysis.summaries` (what
is read from it).
"""

from __future__ import annotations

from cnnlib.analysis.arithmetic import (
    conv_output_size,
    conv_transpose_output_size,
    pool_output_size,
)
from cnnlib.analysis.counts import (
    FlopReport,
    MemoryAccessReport,
    count_flops,
    count_macs,
    memory_access_cost,
)
from cnnlib.analysis.dilation import (
    HybridDilation,
    dilated_footprint,
    hdc_max_distances,
    hybrid_dilation,
)
from cnnlib.analysis.fields import AxisField
from cnnlib.analysis.formulas import (
    conv_macs,
    conv_params,
    count_params,
    linear_macs,
    linear_params,
)
from cnnlib.analysis.receptive import (
    FeatureMap,
    ReceptiveField,
    ReceptiveFieldRow,
    feature_maps,
    receptive_field,
)
from cnnlib.analysis.summaries import Summary, SummaryRow, summary
from cnnlib.analysis.tracer import LayerCall, Trace, trace

__all__ = [
    "conv_output_size",
    "conv_transpose_output_size",
    "pool_output_size",
    "conv_params",
    "conv_macs",
    "linear_params",
    "linear_macs",
    "count_params",
    "count_macs",
    "count_flops",
    "FlopReport",
    "memory_access_cost",
    "MemoryAccessReport",
    "AxisField",
    "dilated_footprint",
    "hdc_max_distances",
    "hybrid_dilation",
    "HybridDilation",
    "receptive_field",
    "ReceptiveField",
    "ReceptiveFieldRow",
    "summary",
    "Summary",
    "SummaryRow",
    "trace",
    "Trace",
    "LayerCall",
    "FeatureMap",
    "feature_maps",
]
