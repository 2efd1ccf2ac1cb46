"""Datasets as in-memory tensors, offline first.

Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017) is small enough (70,000 28x28
grey images, 55 MB as uint8) to live in memory as one tensor per split, which
makes batching a slice instead of a Python loop over samples.

Sources are tried in this order, and the first complete one wins:

1. the cache folder: ``root`` if given, else ``$CNNLIB_DATA``, else
   ``~/.cache/cnnlib`` — the four IDX files (``.gz`` or not) in
   ``<cache>/fashion-mnist/`` or in torchvision's ``<cache>/FashionMNIST/raw/``;
2. Debian's package ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``);
3. torchvision's download into the cache folder (``download=True``).

When none is reachable, :class:`DatasetUnavailableError` says how to get the data.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "ImageDataset",
    "DatasetUnavailableError",
    "FASHION_MNIST_CLASSES",
    "DEBIAN_FASHION_MNIST",
    "data_root",
    "load_fashion_mnist",
    "read_idx",
]

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_SPLIT_SIZES = {"train": 60_000, "test": 10_000}
# IDX type codes (LeCun's MNIST page): only unsigned bytes occur in (Fashion-)MNIST.
_IDX_UBYTE = 0x08


class DatasetUnavailableError(RuntimeError):
    """No source of a dataset could be reached; the message says how to get one."""


@dataclass(frozen=True)
class ImageDataset:
    """An image classification dataset held in memory.

    Images are ``uint8`` tensors of shape ``(N, C, H, W)``; labels are ``int64``
    of shape ``(N,)``. ``mean`` and ``std`` are per-channel statistics of the
    training images scaled to [0, 1], for normalisation.
    """

    name: str
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: str

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        c, h, w = self.train_images.shape[1:]
        return int(c), int(h), int(w)

    def __repr__(self) -> str:
        return (
            f"ImageDataset({self.name!r}, train={tuple(self.train_images.shape)}, "
            f"test={tuple(self.test_images.shape)}, classes={len(self.classes)}, "
            f"source={self.source!r})"
        )


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder: ``root``, else ``$CNNLIB_DATA``, else ``~/.cache/cnnlib``."""
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"data_root: root must be a path, got {root!r}")
        return Path(root).expanduser()
    env = os.environ.get("CNNLIB_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "cnnlib"


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) of unsigned bytes into an array.

    Raises:
        ValueError: the file is not an IDX file of unsigned bytes, or is truncated.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != _IDX_UBYTE:
        raise ValueError(f"read_idx: {path} is not an IDX file of unsigned bytes")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise ValueError(
            f"read_idx: {path} has {len(data)} bytes, expected {expected} for shape {shape}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _find(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def _complete(folder: Path) -> dict[str, Path] | None:
    found = {key: _find(folder, stem) for key, stem in _FILES.items()}
    if all(found.values()):
        return found  # type: ignore[return-value]
    return None


def _load_split(files: dict[str, Path], split: str) -> tuple[torch.Tensor, torch.Tensor]:
    images = read_idx(files[f"{split}_images"])
    labels = read_idx(files[f"{split}_labels"])
    n = _SPLIT_SIZES[split]
    if images.shape != (n, 28, 28) or labels.shape != (n,) or labels.max() > 9:
        raise ValueError(
            f"load_fashion_mnist: {files[f'{split}_images'].parent} does not hold "
            f"Fashion-MNIST's {split} split (images {images.shape}, labels {labels.shape})"
        )
    return (
        torch.from_numpy(images.copy()).unsqueeze(1),
        torch.from_numpy(labels.astype(np.int64)),
    )


def load_fashion_mnist(
    root: str | os.PathLike[str] | None = None, *, download: bool = True
) -> ImageDataset:
    """Fashion-MNIST as uint8 tensors: 60,000 training and 10,000 test images.

    Args:
        root: cache folder (default ``$CNNLIB_DATA`` or ``~/.cache/cnnlib``).
        download: when no local source exists, let torchvision download it into
            the cache folder.

    Raises:
        DatasetUnavailableError: no local copy, and the download is disabled or failed.
    """
    if not isinstance(download, bool):
        raise TypeError(f"load_fashion_mnist: download must be a bool, got {download!r}")
    cache = data_root(root)
    candidates = [cache / "fashion-mnist", cache / "FashionMNIST" / "raw", DEBIAN_FASHION_MNIST]
    files = next((f for f in map(_complete, candidates) if f is not None), None)
    download_error: Exception | None = None
    if files is None and download:
        try:
            from torchvision.datasets import FashionMNIST

            FashionMNIST(str(cache), train=True, download=True)
            FashionMNIST(str(cache), train=False, download=True)
            files = _complete(cache / "FashionMNIST" / "raw")
        except Exception as error:  # network errors come in many types
            download_error = error
    if files is None:
        reason = (
            f"the download failed ({type(download_error).__name__}: {download_error})"
            if download_error is not None
            else "download=False"
        )
        raise DatasetUnavailableError(
            "Fashion-MNIST was not found and could not be downloaded: "
            f"{reason}.\nLooked in: " + ", ".join(str(c) for c in candidates) + ".\n"
            "To get it, do one of:\n"
            "  * on Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist\n"
            "  * copy train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
            f"t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz into {cache / 'fashion-mnist'} "
            "(from https://github.com/zalandoresearch/fashion-mnist)\n"
            "  * connect to the internet and call load_fashion_mnist(download=True)\n"
            "  * set CNNLIB_DATA to a folder that already holds them"
        ) from download_error
    train_images, train_labels = _load_split(files, "train")
    test_images, test_labels = _load_split(files, "test")
    scaled = train_images.double() / 255
    return ImageDataset(
        name="Fashion-MNIST",
        train_images=train_images,
        train_labels=train_labels,
        test_images=test_images,
        test_labels=test_labels,
        classes=FASHION_MNIST_CLASSES,
        mean=(float(scaled.mean()),),
        std=(float(scaled.std()),),
        source=str(files["train_images"].parent),
    )
