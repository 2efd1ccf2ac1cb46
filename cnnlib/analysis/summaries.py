"""One view of everything: a per-layer table of shapes, parameters, MACs and receptive fields."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from torch import nn

from cnnlib.analysis._text import pair_text, text_table
from cnnlib.analysis.formulas import count_params
from cnnlib.analysis.tracer import Trace, _trace

__all__ = ["summary", "Summary", "SummaryRow"]


@dataclass(frozen=True)
class SummaryRow:
    """One leaf-module call: name, type, output shape, own parameters, MACs, receptive field."""

    name: str
    type: str
    output_shape: tuple[int, ...]
    params: int
    macs: int
    receptive_field: tuple[int, int] | None


@dataclass(frozen=True)
class Summary:
    """Per-layer analysis of a model for one input shape.

    Renders as an HTML table in notebooks and as aligned text elsewhere.
    ``total_params`` counts every parameter once (shared ones too);
    ``total_macs`` includes matrix products made outside leaf modules.
    """

    input_size: tuple[int, ...]
    rows: list[SummaryRow] = field(default_factory=list)
    total_params: int = 0
    total_macs: int = 0

    @classmethod
    def from_trace(cls, trace: Trace) -> Summary:
        """The summary of a traced forward pass (see :func:`~cnnlib.analysis.trace`).

        The receptive-field column is empty for layers without spatial extent
        and for every layer after the field could no longer be followed.
        """
        rows = []
        for call in trace.calls:
            f = call.output_field
            rf = None
            if f is not None and f.axes is not None and not f.problem:
                rf = (f.axes[0].size, f.axes[1].size)
            rows.append(
                SummaryRow(
                    name=call.name,
                    type=type(call.module).__name__,
                    output_shape=call.output_shape,
                    params=call.params,
                    macs=call.macs,
                    receptive_field=rf,
                )
            )
        return cls(
            input_size=trace.input_size,
            rows=rows,
            total_params=count_params(trace.model),
            total_macs=trace.macs,
        )

    def _cells(self) -> tuple[list[str], list[list[str]], list[str]]:
        header = ["layer", "type", "output shape", "params", "MACs", "receptive field"]
        body = [
            [r.name, r.type, str(list(r.output_shape)), f"{r.params:,}", f"{r.macs:,}",
             pair_text(r.receptive_field)]
            for r in self.rows
        ]  # fmt: skip
        footer = [
            "total", "", str(list(self.input_size)) + " in", f"{self.total_params:,}",
            f"{self.total_macs:,}", "",
        ]  # fmt: skip
        return header, body, footer

    def __str__(self) -> str:
        header, body, footer = self._cells()
        text = text_table([tuple(header), *map(tuple, body), tuple(footer)], right={3, 4, 5})
        lines = text.splitlines()
        return "\n".join([*lines[:-1], "-" * len(lines[1]), lines[-1]])

    def _repr_html_(self) -> str:
        header, body, footer = self._cells()

        def row(cells: list[str], tag: str) -> str:
            out = []
            for i, cell in enumerate(cells):
                align = "text-align:right;" if i >= 3 else "text-align:left;"
                out.append(
                    f'<{tag} style="{align}padding:0.1em 0.75em">{html.escape(cell)}</{tag}>'
                )
            return "<tr>" + "".join(out) + "</tr>"

        return (
            '<table class="cnnlib-summary">'
            f"<thead>{row(header, 'th')}</thead>"
            f"<tbody>{''.join(row(r, 'td') for r in body)}</tbody>"
            f"<tfoot>{row(footer, 'th')}</tfoot></table>"
        )


def summary(model: nn.Module, input_size: Sequence[int]) -> Summary:
    """Every leaf layer's output shape, parameters, MACs and receptive field, with totals.

    The receptive-field column is empty for layers without spatial extent and
    for every layer when the field cannot be followed (see :func:`receptive_field`).

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: as :func:`count_macs`.
    """
    return Summary.from_trace(_trace("summary", model, input_size))
