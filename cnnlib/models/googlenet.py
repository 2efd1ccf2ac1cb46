"""GoogLeNet (Inception v1): Szegedy et al. (2015), "Going Deeper with Convolutions".

Module names follow torchvision (``conv1`` … ``conv3``, ``maxpool1`` …
``maxpool4``, ``inception3a`` … ``inception5b``, ``aux1``/``aux2``, ``avgpool``,
``dropout``, ``fc``; inside an Inception module ``branch1`` … ``branch4``), so
``torchvision.models.googlenet(weights=None)``'s ``state_dict`` loads with
``strict=True`` and gives the same outputs.

The paper states a budget of 1.5 billion multiply-adds and gives no parameter
total; its Table 1 (:data:`PAPER_TABLE_1`) has a "params" column summing to
6,797.7 K (the "6.8 M" usually quoted) and an "ops" column summing to 1,502 M
at 224x224. torchvision's twin, built by :func:`googlenet`, has 6,624,904
parameters and 1.498 GMACs; the paper's modules (``branch3_kernel_size=5``)
have 7,005,832 parameters and 1.583 GMACs. The table does not follow from its
own layer widths exactly. Counted the paper's way (a bias per output channel,
no batch norm), its module parameters run 2-4 % below what the widths give,
4c's 9 % below and 5a's 3 % above; its ops match the widths' MACs within 1 %
except 5a's (54 M against 51 M). The first convolution is listed with 2.7 K
parameters and 34 M ops, but its 7x7x3x64 = 9,408 weights cost 118 M MACs at
112x112. torchvision's total lands near the table's only because its 3x3
branches save 85 M MACs, about the 84 M the table leaves out of conv1.

Every convolution is a :class:`~cnnlib.layers.ConvBNReLU` (torchvision's
``BasicConv2d``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import nn

from cnnlib._checks import boolean, one_of, probability
from cnnlib.layers import ConvBNReLU
from cnnlib.models._common import ImageClassifier
from cnnlib.models._registry import register_model

__all__ = [
    "GoogLeNet",
    "GoogLeNetOutputs",
    "Inception",
    "InceptionAux",
    "INCEPTION_CONFIG",
    "PAPER_TABLE_1",
    "googlenet",
]


class Inception(nn.Module):
    """The Inception module of Figure 2(b): four parallel branches, concatenated.

    ``branch1``: 1x1 conv (``n1x1``). ``branch2``: 1x1 reduction (``n3x3_reduce``)
    then 3x3 conv (``n3x3``). ``branch3``: 1x1 reduction (``n5x5_reduce``) then a
    ``branch3_kernel_size`` conv (``n5x5``; 5x5 in the paper, 3x3 in torchvision).
    ``branch4``: 3x3 max-pool (stride 1) then 1x1 projection (``pool_proj``).
    Every branch keeps the spatial size; the output has
    ``n1x1 + n3x3 + n5x5 + pool_proj`` channels (:attr:`out_channels`).

    With ``reductions=False`` it is the naive module of Figure 2(a): the 3x3
    and 5x5 convolutions read the input directly, and the pooled input is
    concatenated as it is (``in_channels`` channels, no projection), so the
    output has ``n1x1 + n3x3 + n5x5 + in_channels`` channels.
    """

    def __init__(
        self,
        in_channels: int,
        n1x1: int,
        n3x3_reduce: int,
        n3x3: int,
        n5x5_reduce: int,
        n5x5: int,
        pool_proj: int,
        branch3_kernel_size: int = 3,
        reductions: bool = True,
    ) -> None:
        super().__init__()

        def reduced(reduce: int, out: int, k: int) -> nn.Sequential:
            """A 1x1 reduction, then the k x k convolution (alone if naive)."""
            conv = ConvBNReLU(reduce if reductions else in_channels, out, k,
                              padding=k // 2)  # fmt: skip
            if not reductions:
                return nn.Sequential(conv)
            return nn.Sequential(ConvBNReLU(in_channels, reduce, 1), conv)

        pool = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.branch1 = ConvBNReLU(in_channels, n1x1, kernel_size=1)
        self.branch2 = reduced(n3x3_reduce, n3x3, 3)
        self.branch3 = reduced(n5x5_reduce, n5x5, branch3_kernel_size)
        if reductions:
            project = ConvBNReLU(in_channels, pool_proj, kernel_size=1)
            self.branch4 = nn.Sequential(pool, project)
        else:
            self.branch4 = nn.Sequential(pool)
        pooled = pool_proj if reductions else in_channels
        self.out_channels = n1x1 + n3x3 + n5x5 + pooled

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return torch.cat([branch(x) for branch in branches], dim=1)


class InceptionAux(nn.Module):
    """An auxiliary classifier (Section 5 of the paper), attached after 4a and 4d.

    Average pooling to a 4x4 grid (the paper: 5x5 window, stride 3 on the 14x14
    map; torchvision: adaptive pooling, the same on 14x14 inputs and usable at
    any input size), a 1x1 convolution to 128 channels (with batch norm here),
    a fully connected layer of 1024 units with ReLU, dropout (70 %) and a
    linear classifier. The paper adds its loss with weight 0.3 during training
    and discards the head at inference.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        *,
        reduce_channels: int = 128,
        hidden_features: int = 1024,
        dropout: float = 0.7,
    ) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.conv = ConvBNReLU(in_channels, reduce_channels, kernel_size=1)
        self.flatten = nn.Flatten(1)
        self.fc1 = nn.Linear(reduce_channels * 4 * 4, hidden_features)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(p=dropout)
        self.fc2 = nn.Linear(hidden_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.flatten(self.conv(self.pool(x)))
        return self.fc2(self.dropout(self.relu(self.fc1(x))))


class GoogLeNetOutputs(NamedTuple):
    """What :class:`GoogLeNet` returns in training mode with ``aux_logits=True``.

    The order (main, then the head after 4d, then the one after 4a) is
    torchvision's, so training code written for torchvision's GoogLeNet works
    unchanged. The paper's loss: ``loss(logits) + 0.3 * (loss(aux_logits1) +
    loss(aux_logits2))``.
    """

    logits: torch.Tensor
    aux_logits2: torch.Tensor
    aux_logits1: torch.Tensor


#: Each Inception module's (n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj),
#: from Table 1 of the paper.
INCEPTION_CONFIG: dict[str, tuple[int, int, int, int, int, int]] = {
    "inception3a": (64, 96, 128, 16, 32, 32),
    "inception3b": (128, 128, 192, 32, 96, 64),
    "inception4a": (192, 96, 208, 16, 48, 64),
    "inception4b": (160, 112, 224, 24, 64, 64),
    "inception4c": (128, 128, 256, 24, 64, 64),
    "inception4d": (112, 144, 288, 32, 64, 64),
    "inception4e": (256, 160, 320, 32, 128, 128),
    "inception5a": (256, 160, 320, 32, 128, 128),
    "inception5b": (384, 192, 384, 48, 128, 128),
}

#: Table 1 of the paper as printed: (params in thousands, ops in millions) of
#: ``conv1``, ``conv2`` and ``conv3`` together, each Inception module and the
#: linear layer. Not self-consistent; see the module docstring.
PAPER_TABLE_1: dict[str, tuple[float, int]] = {
    "conv1": (2.7, 34),
    "conv2-3": (112, 360),
    "inception3a": (159, 128),
    "inception3b": (380, 304),
    "inception4a": (364, 73),
    "inception4b": (437, 88),
    "inception4c": (463, 100),
    "inception4d": (580, 119),
    "inception4e": (840, 170),
    "inception5a": (1072, 54),
    "inception5b": (1388, 71),
    "fc": (1000, 1),
}


class GoogLeNet(ImageClassifier):
    """GoogLeNet: a stem, nine Inception modules in three stages, global pooling, linear.

    At 224x224 the stem (7x7/2 conv, 3x3/2 max-pool, 1x1 conv, 3x3 conv, 3x3/2
    max-pool) brings the map to 28x28 for 3a-3b, a max-pool halves it to 14x14
    for 4a-4e and another to 7x7 for 5a-5b; then 7x7 average pooling, dropout
    (40 % in the paper, 20 % here as in torchvision) and a linear classifier.
    Max-pools round their output size up (``ceil_mode=True``), as Caffe's did.

    Where it departs from the paper (all as in torchvision):

    * **3x3 instead of 5x5** in every module's third branch (``branch3``),
      inherited from the TF-Slim ``inception_v1`` whose weights torchvision
      ported (pytorch/vision issue 906). ``branch3_kernel_size=5`` builds the paper's
      modules: each gains ``(25 - 9) * n5x5_reduce * n5x5`` weights, 380,928
      in all (6,624,904 → 7,005,832 parameters, 1.498 → 1.583 GMACs).
    * **Batch normalisation** after every convolution (which then has no
      bias); the paper predates batch normalisation.
    * **No local response normalisation** after the first max-pool and the
      third convolution.
    * The auxiliary heads carry batch norm and use adaptive pooling (see
      :class:`InceptionAux`).

    Args:
        num_classes: outputs of ``fc`` (and of the auxiliary heads).
        in_channels: channels of the input image.
        aux_logits: build the two auxiliary classifiers ``aux1`` (after 4a) and
            ``aux2`` (after 4d). In training mode the forward pass then returns
            :class:`GoogLeNetOutputs`; in eval mode only the main logits (the
            heads are not run).
        small_input: a stem for 28x28 / 32x32 images: ``conv1`` becomes a 3x3
            convolution with stride 1 and padding 1 (instead of 7x7, stride 2,
            padding 3) and ``maxpool1`` and ``maxpool2`` become ``nn.Identity``;
            ``conv2`` and ``conv3`` stay. The three Inception stages then run at
            32x32, 16x16 and 8x8 for 32x32 inputs (28x28, 14x14, 7x7 for 28x28),
            near the 28/14/7 they have at 224x224.
        width_multiplier: ``α``; every convolution's output channels (and the
            auxiliary heads' 128 channels and 1024 hidden units) become
            ``round(c * α)``, at least 1. At 1.0 nothing changes.
        branch3_kernel_size: 3 (torchvision) or 5 (the paper).
        dropout: dropout probability before ``fc``.
        dropout_aux: dropout probability inside the auxiliary heads.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong type
            (the message names it).
    """

    def __init__(
        self,
        *,
        aux_logits: bool = False,
        branch3_kernel_size: int = 3,
        dropout: float = 0.2,
        dropout_aux: float = 0.7,
        num_classes: int = 1000,
        in_channels: int = 3,
        small_input: bool = False,
        width_multiplier: float = 1.0,
    ) -> None:
        one_of("GoogLeNet", "branch3_kernel_size", branch3_kernel_size, (3, 5))
        self.aux_logits = boolean("GoogLeNet", "aux_logits", aux_logits)
        probability("GoogLeNet", "dropout", dropout)
        probability("GoogLeNet", "dropout_aux", dropout_aux)
        super().__init__(num_classes, in_channels, small_input, width_multiplier)
        scale = self.scale

        if small_input:
            self.conv1 = ConvBNReLU(in_channels, scale(64), kernel_size=3, padding=1)
            self.maxpool1: nn.Module = nn.Identity()
        else:
            self.conv1 = ConvBNReLU(in_channels, scale(64), kernel_size=7, stride=2, padding=3)
            self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = ConvBNReLU(scale(64), scale(64), kernel_size=1)
        self.conv3 = ConvBNReLU(scale(64), scale(192), kernel_size=3, padding=1)
        self.maxpool2: nn.Module = (
            nn.Identity() if small_input else nn.MaxPool2d(3, stride=2, ceil_mode=True)
        )

        channels = scale(192)
        modules: dict[str, Inception] = {}
        for name, config in INCEPTION_CONFIG.items():
            modules[name] = Inception(
                channels, *(scale(c) for c in config), branch3_kernel_size=branch3_kernel_size
            )
            channels = modules[name].out_channels
        self.inception3a = modules["inception3a"]
        self.inception3b = modules["inception3b"]
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = modules["inception4a"]
        self.inception4b = modules["inception4b"]
        self.inception4c = modules["inception4c"]
        self.inception4d = modules["inception4d"]
        self.inception4e = modules["inception4e"]
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = modules["inception5a"]
        self.inception5b = modules["inception5b"]

        self.aux1: InceptionAux | None = None
        self.aux2: InceptionAux | None = None
        if aux_logits:
            aux_sizes = {"reduce_channels": scale(128), "hidden_features": scale(1024)}
            self.aux1 = InceptionAux(
                self.inception4a.out_channels, num_classes, dropout=dropout_aux, **aux_sizes
            )
            self.aux2 = InceptionAux(
                self.inception4d.out_channels, num_classes, dropout=dropout_aux, **aux_sizes
            )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(channels, num_classes)
        self._initialise()

    def _initialise(self) -> None:
        """torchvision's ``init_weights=True``: N(0, 0.01²) weights, BN as identity.

        (Truncation at ±2 is torchvision's, in absolute units: ±200 standard
        deviations, so in effect a plain normal.)
        """
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(module.weight, mean=0.0, std=0.01, a=-2.0, b=2.0)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor | GoogLeNetOutputs:
        """Logits; :class:`GoogLeNetOutputs` in training mode with ``aux_logits=True``."""
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.inception3b(self.inception3a(x))
        x = self.inception4a(self.maxpool3(x))
        use_aux = self.training and self.aux1 is not None and self.aux2 is not None
        aux1 = self.aux1(x) if use_aux else None  # type: ignore[misc]
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if use_aux else None  # type: ignore[misc]
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        logits = self.fc(self.dropout(self.flatten(self.avgpool(x))))
        if use_aux:
            return GoogLeNetOutputs(logits, aux2, aux1)  # type: ignore[arg-type]
        return logits


@register_model
def googlenet(**kwargs: Any) -> GoogLeNet:
    """GoogLeNet (Szegedy et al., 2015), torchvision's twin.

    Equals ``torchvision.models.googlenet(weights=None, aux_logits=aux_logits,
    init_weights=True)`` (``transform_input=False``): 6,624,904 parameters
    without the auxiliary heads (13,004,888 with them), 1.498 GMACs at 224x224.
    Keyword arguments (``aux_logits``, ``branch3_kernel_size``, ``dropout``,
    ``dropout_aux``, ...) go to :class:`GoogLeNet`.
    """
    return GoogLeNet(**kwargs)
