"""Datasets as in-memory tensors, offline first, and batch augmentation.

Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017) is small enough (70,000 28x28
grey images, 55 MB as uint8) to live in memory as one tensor per split, which
makes batching a slice instead of a Python loop over samples. CIFAR-10
(Krizhevsky, 2009: 60,000 32x32 colour images, 184 MB as uint8) is held the
same way. Both load into an :class:`ImageDataset`.

Fashion-MNIST (:func:`load_fashion_mnist`): sources are tried in this order,
and the first complete one wins:

1. the cache folder: ``root`` if given, else ``$CNNLIB_DATA``, else
   ``~/.cache/cnnlib`` — the four IDX files (``.gz`` or not) in
   ``<cache>/fashion-mnist/`` or in torchvision's ``<cache>/FashionMNIST/raw/``;
2. Debian's package ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``);
3. torchvision's download into the cache folder (``download=True``).

CIFAR-10 (:func:`load_cifar10`): the archive ``<cache>/cifar-10/cifar-10-python.tar.gz``,
else its extracted ``cifar-10-batches-py/`` folder in ``<cache>/cifar-10/`` or,
as torchvision leaves it, in ``<cache>/``; else (``download=True``) the archive
is downloaded from :data:`CIFAR10_URL`, checked against :data:`CIFAR10_MD5` and
moved into place atomically. The pickles are read in memory with an unpickler
that only rebuilds numpy arrays; nothing is extracted to disk.

:func:`load_dataset` picks a dataset by name and can fall back from CIFAR-10
to Fashion-MNIST, which works offline. When no source is reachable,
:class:`DatasetUnavailableError` says how to get the data.

:class:`Augmentation` randomly crops and flips a whole batch at once, on the
batch's device, drawing its randomness from a CPU :class:`torch.Generator`;
each dataset carries its recommended training augmentation.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import os
import pickle
import tarfile
import tempfile
import urllib.request
import warnings
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from cnnlib._checks import boolean, positive_int

__all__ = [
    "Augmentation",
    "ImageDataset",
    "DatasetUnavailableError",
    "FASHION_MNIST_CLASSES",
    "DEBIAN_FASHION_MNIST",
    "CIFAR10_CLASSES",
    "CIFAR10_URL",
    "CIFAR10_MD5",
    "DATASETS",
    "data_root",
    "load_fashion_mnist",
    "load_cifar10",
    "load_dataset",
    "limit_test_set",
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

# The label names of CIFAR-10's ``batches.meta``, in label order.
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
_CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
_CIFAR10_FOLDER = "cifar-10-batches-py"
_CIFAR10_BATCHES = {
    "train": tuple(f"data_batch_{i}" for i in range(1, 6)),
    "test": ("test_batch",),
}
_CIFAR10_SHAPE = (3, 32, 32)
# Seconds one socket operation of the download may block before it counts as failed.
_DOWNLOAD_TIMEOUT_S = 60.0

DatasetName = Literal["fashion-mnist", "cifar10"]
DATASETS: tuple[str, ...] = ("fashion-mnist", "cifar10")


class DatasetUnavailableError(RuntimeError):
    """No source of a dataset could be reached; the message says how to get one."""


@dataclass(frozen=True)
class Augmentation:
    """Random crops and horizontal flips of a whole batch, without a loop over samples.

    A crop zero-pads every image by ``crop_padding`` pixels per side and cuts
    out a window of the original size at an offset ``(dy, dx)`` drawn uniformly
    from ``[0, 2 * crop_padding]²`` per image, so the content shifts by up to
    ``crop_padding`` pixels in each direction (the CIFAR recipe of He et al.,
    2016: ``crop_padding=4``). A flip then mirrors each image left-right with
    probability 1/2. Apply it to the raw images, before normalisation, so that
    the padding is black.

    Randomness comes from ``generator`` in this order, both on the CPU:
    ``torch.randint(0, 2 * crop_padding + 1, (N, 2))`` for the offsets
    (``[:, 0]`` rows, ``[:, 1]`` columns; only when ``crop_padding > 0``), then
    ``torch.randint(0, 2, (N,))`` for the flips (only when ``horizontal_flip``).
    The small index tensors are then moved to the batch's device, so a result
    depends only on the generator's state and is the same on CPU and GPU.

    Args:
        crop_padding: pixels of zero padding per side for the random crop; 0 turns
            cropping off.
        horizontal_flip: flip each image left-right with probability 1/2.

    Raises:
        TypeError: ``crop_padding`` is not an int or ``horizontal_flip`` not a bool.
        ValueError: ``crop_padding`` is negative.
    """

    crop_padding: int = 0
    horizontal_flip: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.crop_padding, int) or isinstance(self.crop_padding, bool):
            raise TypeError(
                f"Augmentation: crop_padding must be a non-negative int, got {self.crop_padding!r}"
            )
        if self.crop_padding < 0:
            raise ValueError(
                f"Augmentation: crop_padding must be a non-negative int, got {self.crop_padding!r}"
            )
        boolean("Augmentation", "horizontal_flip", self.horizontal_flip)

    @property
    def enabled(self) -> bool:
        """Whether calling it changes anything (a crop or a flip is switched on)."""
        return self.crop_padding > 0 or self.horizontal_flip

    def __call__(
        self, images: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Augment a batch.

        Args:
            images: a batch ``(N, C, H, W)`` of any dtype (uint8 or float) on any device.
            generator: a CPU generator for the random draws; ``None`` uses torch's
                global CPU generator.

        Returns:
            A new tensor of the same shape, dtype and device; ``images`` itself
            when the augmentation is not :attr:`enabled`.

        Raises:
            TypeError: ``images`` is not a tensor or ``generator`` not a torch.Generator.
            ValueError: ``images`` is not 4-D or ``generator`` is not on the CPU.
        """
        if not isinstance(images, torch.Tensor):
            raise TypeError(
                f"Augmentation: images must be a torch.Tensor of shape (N, C, H, W), "
                f"got {type(images).__name__}"
            )
        if images.dim() != 4:
            raise ValueError(
                f"Augmentation: images must be a 4-D tensor (N, C, H, W), "
                f"got shape {tuple(images.shape)}"
            )
        if generator is not None:
            if not isinstance(generator, torch.Generator):
                raise TypeError(
                    f"Augmentation: generator must be a torch.Generator or None, got {generator!r}"
                )
            if generator.device.type != "cpu":
                raise ValueError(
                    f"Augmentation: generator must be a CPU torch.Generator, "
                    f"got one on {generator.device}"
                )
        if not self.enabled:
            return images
        n, c, h, w = images.shape
        p = self.crop_padding
        # Source row and column of every output pixel, per sample: (N, H) and (N, W).
        # The draws stay on the CPU generator (the same results on every device);
        # only these small tensors travel, through pinned memory to a GPU, so the
        # copy does not wait for the GPU to finish its queued work.
        dev = images.device
        shift = torch.zeros(n, 2, dtype=torch.long)
        if p > 0:
            shift = torch.randint(0, 2 * p + 1, (n, 2), generator=generator)
        flips = torch.zeros(n, dtype=torch.bool)
        if self.horizontal_flip:
            flips = torch.randint(0, 2, (n,), generator=generator).bool()
        shift, flips = _to_device(shift, dev), _to_device(flips, dev)
        rows = torch.arange(h, device=dev).expand(n, h) + shift[:, :1]
        cols = torch.arange(w, device=dev).expand(n, w)
        cols = torch.where(flips[:, None], cols.flip(1), cols) + shift[:, 1:]
        source = F.pad(images, (p, p, p, p)) if p > 0 else images
        sample = torch.arange(n, device=dev).view(n, 1, 1, 1)
        channel = torch.arange(c, device=dev).view(1, c, 1, 1)
        return source[sample, channel, rows.view(n, 1, h, 1), cols.view(n, 1, 1, w)]


def _to_device(tensor: torch.Tensor, dev: torch.device) -> torch.Tensor:
    """A small CPU tensor on ``dev``: through pinned memory to a GPU, without waiting for it."""
    if dev.type == "cuda":
        return tensor.pin_memory().to(dev, non_blocking=True)
    return tensor.to(dev)


@dataclass(frozen=True)
class ImageDataset:
    """An image classification dataset held in memory.

    Images are ``uint8`` tensors of shape ``(N, C, H, W)``; labels are ``int64``
    of shape ``(N,)``. ``mean`` and ``std`` are per-channel statistics of the
    training images scaled to [0, 1], for normalisation. ``augmentation`` is
    the recommended training augmentation for this dataset (the trainer applies
    it on request).
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
    augmentation: Augmentation = Augmentation()

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


def limit_test_set(dataset: ImageDataset, max_test_samples: int | None) -> ImageDataset:
    """The same dataset with only its first ``max_test_samples`` test images.

    The counterpart, for evaluation, of :func:`cnnlib.train.fit`'s
    ``max_train_samples``: a quick run tests on a fixed slice of the test set.
    The training split, the statistics and the augmentation are unchanged;
    ``None`` (or a number at least the size of the test set) keeps every test
    image.

    Raises:
        TypeError: ``dataset`` is not an :class:`ImageDataset`.
        ValueError: ``max_test_samples`` is neither ``None`` nor a positive int.
    """
    if not isinstance(dataset, ImageDataset):
        raise TypeError(
            f"limit_test_set: dataset must be an ImageDataset, got {type(dataset).__name__}"
        )
    if max_test_samples is None:
        return dataset
    n = positive_int("limit_test_set", "max_test_samples", max_test_samples)
    return replace(
        dataset, test_images=dataset.test_images[:n], test_labels=dataset.test_labels[:n]
    )


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder: ``root``, else ``$CNNLIB_DATA``, else ``~/.cache/cnnlib``."""
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"data_root: root must be a path, got {root!r}")
        return Path(root).expanduser()
    env = os.environ.get("CNNLIB_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "cnnlib"


def _channel_stats(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and sample standard deviation of uint8 images scaled to [0, 1].

    Counts how often each of the 256 levels occurs per channel (exact, in int64),
    then sums in float64 over the levels, so no float copy of the images is made.
    """
    levels = torch.arange(256, dtype=torch.float64) / 255
    means, stds = [], []
    for channel in images.unbind(1):
        counts = torch.bincount(channel.flatten(), minlength=256).double()
        n = counts.sum()
        mean = (counts * levels).sum() / n
        variance = (counts * (levels - mean) ** 2).sum() / (n - 1)
        means.append(float(mean))
        stds.append(float(variance.sqrt()))
    return tuple(means), tuple(stds)


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
    boolean("load_fashion_mnist", "download", download)
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
            "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz into "
            f"{cache / 'fashion-mnist'} "
            "(from https://github.com/zalandoresearch/fashion-mnist)\n"
            "  * connect to the internet and call load_fashion_mnist(download=True)\n"
            "  * set CNNLIB_DATA to a folder that already holds them"
        ) from download_error
    return _in_memory(
        "Fashion-MNIST",
        (*_load_split(files, "train"), *_load_split(files, "test")),
        FASHION_MNIST_CLASSES,
        source=files["train_images"].parent,
        # A mirrored garment is still the same class: a left shoe mirrored is a shoe.
        augmentation=Augmentation(horizontal_flip=True),
    )


def _in_memory(
    name: str,
    tensors: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    classes: tuple[str, ...],
    source: Path,
    augmentation: Augmentation,
) -> ImageDataset:
    """An :class:`ImageDataset` of (train images, train labels, test images, test labels).

    The normalisation statistics come from the training images.
    """
    train_images, train_labels, test_images, test_labels = tensors
    mean, std = _channel_stats(train_images)
    return ImageDataset(
        name=name,
        train_images=train_images,
        train_labels=train_labels,
        test_images=test_images,
        test_labels=test_labels,
        classes=classes,
        mean=mean,
        std=std,
        source=str(source),
        augmentation=augmentation,
    )


class _ArrayUnpickler(pickle.Unpickler):
    """Rebuilds containers, bytes and numpy arrays only, so a batch file cannot run code."""

    _ALLOWED = frozenset({
        ("numpy.core.multiarray", "_reconstruct"),  # arrays pickled by numpy 1.x (CIFAR-10's files)
        ("numpy._core.multiarray", "_reconstruct"),  # arrays pickled by numpy 2
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # bytes in protocol-2 pickles written by Python 3
    })  # fmt: skip

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"a CIFAR-10 batch may not refer to {module}.{name}")
        return super().find_class(module, name)


def _unpickle_cifar10_batch(blob: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """``(images (N, 3, 32, 32) uint8, labels (N,) int64)`` of one pickled batch."""
    try:
        batch = _ArrayUnpickler(io.BytesIO(blob), encoding="bytes").load()
    except Exception as error:  # a damaged pickle fails with almost any exception type
        raise ValueError(
            f"load_cifar10: {where} is not a CIFAR-10 batch ({type(error).__name__}: {error})"
        ) from error
    data = batch.get(b"data") if isinstance(batch, dict) else None
    labels = batch.get(b"labels") if isinstance(batch, dict) else None
    pixels = int(np.prod(_CIFAR10_SHAPE))
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != pixels
        or not isinstance(labels, list)
        or len(labels) != data.shape[0]
    ):
        raise ValueError(
            f"load_cifar10: {where} is not a CIFAR-10 batch (expected a dict with b'data', "
            f"a uint8 array (N, {pixels}), and b'labels', a list of N ints)"
        )
    label_array = np.asarray(labels, dtype=np.int64)
    if label_array.size and (label_array.min() < 0 or label_array.max() >= len(CIFAR10_CLASSES)):
        raise ValueError(f"load_cifar10: {where} has labels outside 0..{len(CIFAR10_CLASSES) - 1}")
    # Each row is channel-major: 1024 red, then 1024 green, then 1024 blue values,
    # each plane row by row.
    return data.reshape(-1, *_CIFAR10_SHAPE), label_array


def _read_cifar10_archive(path: Path) -> dict[str, bytes]:
    """The batch files of a CIFAR-10 ``tar.gz``, read into memory; nothing is extracted."""
    wanted = {
        f"{_CIFAR10_FOLDER}/{name}": name for names in _CIFAR10_BATCHES.values() for name in names
    }
    blobs: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                if member.name in wanted and member.isfile():
                    file = tar.extractfile(member)  # a regular file's member is never None
                    blobs[wanted[member.name]] = file.read()  # type: ignore[union-attr]
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise ValueError(
            f"load_cifar10: {path} is not a readable tar.gz archive "
            f"({type(error).__name__}: {error}); delete it to download it again"
        ) from error
    return blobs


def _cifar10_tensors(
    blobs: dict[str, bytes], where: Path
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(train_images, train_labels, test_images, test_labels)`` from the six batch files."""
    missing = [n for names in _CIFAR10_BATCHES.values() for n in names if n not in blobs]
    if missing:
        raise ValueError(f"load_cifar10: {where} lacks the CIFAR-10 batches {', '.join(missing)}")
    tensors = []
    for names in _CIFAR10_BATCHES.values():
        batches = [_unpickle_cifar10_batch(blobs[name], f"{where} ({name})") for name in names]
        tensors.append(torch.from_numpy(np.concatenate([images for images, _ in batches])))
        tensors.append(torch.from_numpy(np.concatenate([labels for _, labels in batches])))
    train_images, train_labels, test_images, test_labels = tensors
    return train_images, train_labels, test_images, test_labels


def _download(url: str, target: Path, md5: str) -> None:
    """Stream ``url`` to ``target`` through a temporary file beside it, checking its MD5.

    ``target`` appears only once complete and verified (:func:`os.replace` is
    atomic); on any failure the temporary file is removed.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        digest = hashlib.md5()
        received = 0
        with (
            os.fdopen(handle, "wb") as file,
            urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response,
        ):
            length = response.headers.get("Content-Length", "")
            expected = int(length) if length.isdigit() else None
            progress = tqdm(
                total=expected, unit="B", unit_scale=True, desc=target.name, leave=False
            )
            with progress as bar:
                while chunk := response.read(1 << 20):
                    file.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            file.flush()
            os.fsync(file.fileno())
        if expected is not None and received != expected:
            raise OSError(f"the connection closed after {received:,} of {expected:,} bytes")
        if digest.hexdigest() != md5.lower():
            raise ValueError(
                f"the {received:,} bytes received have MD5 {digest.hexdigest()}, expected {md5}"
            )
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_cifar10(
    root: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    url: str = CIFAR10_URL,
    md5: str = CIFAR10_MD5,
) -> ImageDataset:
    """CIFAR-10 as uint8 tensors: 50,000 training and 10,000 test images, 3x32x32.

    Reads, in this order, ``<cache>/cifar-10/cifar-10-python.tar.gz``, an
    extracted ``cifar-10-batches-py/`` folder in ``<cache>/cifar-10/`` or in
    ``<cache>/`` (torchvision's layout); else downloads the archive. The six
    pickled batches (``data_batch_1`` to ``data_batch_5``, ``test_batch``) are
    read in memory; their pickles may only rebuild numpy arrays. ``mean`` and
    ``std`` are computed from the training images. The recommended augmentation
    is the ResNet CIFAR recipe (He et al., 2016): 4 pixels of padding, a random
    32x32 crop and a random horizontal flip.

    Args:
        root: cache folder (default ``$CNNLIB_DATA`` or ``~/.cache/cnnlib``).
        download: when no local copy exists, download ``url`` into
            ``<cache>/cifar-10/cifar-10-python.tar.gz``.
        url: where to download the archive from.
        md5: expected MD5 of the downloaded archive (32 hex digits).

    Raises:
        DatasetUnavailableError: no local copy, and the download is disabled or
            failed (network error, truncated transfer or wrong MD5).
        ValueError: a local copy is not a readable CIFAR-10 archive or folder.
    """
    boolean("load_cifar10", "download", download)
    if not isinstance(url, str):
        raise TypeError(f"load_cifar10: url must be a str, got {url!r}")
    if not (
        isinstance(md5, str)
        and len(md5) == 32
        and all(c in "0123456789abcdef" for c in md5.lower())
    ):
        raise ValueError(f"load_cifar10: md5 must be a string of 32 hex digits, got {md5!r}")
    cache = data_root(root)
    archive = cache / "cifar-10" / _CIFAR10_ARCHIVE
    folders = [cache / "cifar-10" / _CIFAR10_FOLDER, cache / _CIFAR10_FOLDER]
    names = [n for batch_names in _CIFAR10_BATCHES.values() for n in batch_names]
    source: Path | None = archive if archive.is_file() else None
    if source is None:
        source = next((f for f in folders if all((f / n).is_file() for n in names)), None)
    download_error: Exception | None = None
    if source is None and download:
        try:
            _download(url, archive, md5)
            source = archive
        except (OSError, ValueError, http.client.HTTPException) as error:
            download_error = error
    if source is None:
        reason = (
            f"downloading {url} to {archive} failed "
            f"({type(download_error).__name__}: {download_error})"
            if download_error is not None
            else "download=False"
        )
        raise DatasetUnavailableError(
            f"CIFAR-10 was not found and could not be downloaded: {reason}.\n"
            "Looked in: " + ", ".join(str(p) for p in (archive, *folders)) + ".\n"
            "To get it, do one of:\n"
            f"  * download {url} (MD5 {md5}) and save it as {archive}\n"
            "  * connect to the internet and call load_cifar10(download=True)\n"
            "  * set CNNLIB_DATA to a folder that already holds "
            f"cifar-10/{_CIFAR10_ARCHIVE}\n"
            "Fashion-MNIST works offline: load_fashion_mnist() reads Debian's package "
            "dataset-fashion-mnist (sudo apt-get install dataset-fashion-mnist), and "
            'load_dataset("cifar10", fallback="fashion-mnist") falls back to it.'
        ) from download_error
    if source == archive:
        blobs = _read_cifar10_archive(archive)
    else:
        blobs = {name: (source / name).read_bytes() for name in names}
    return _in_memory(
        "CIFAR-10",
        _cifar10_tensors(blobs, source),
        CIFAR10_CLASSES,
        source=source,
        augmentation=Augmentation(crop_padding=4, horizontal_flip=True),
    )


def load_dataset(
    name: DatasetName,
    *,
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    fallback: Literal["fashion-mnist"] | None = None,
) -> ImageDataset:
    """A dataset by name, optionally falling back to Fashion-MNIST when CIFAR-10 is out of reach.

    Args:
        name: ``"fashion-mnist"`` (:func:`load_fashion_mnist`) or ``"cifar10"``
            (:func:`load_cifar10`).
        root: cache folder (default ``$CNNLIB_DATA`` or ``~/.cache/cnnlib``).
        download: let the loader download a dataset that is not on the machine.
        fallback: ``"fashion-mnist"`` to return Fashion-MNIST, with a warning,
            when CIFAR-10 is unavailable (it works offline with Debian's package
            ``dataset-fashion-mnist``); ``None`` to raise instead. Has no effect
            for ``name="fashion-mnist"``.

    Raises:
        ValueError: ``name`` or ``fallback`` is not one of the allowed values.
        DatasetUnavailableError: the dataset, and the fallback if any, are unavailable.
    """
    if name not in DATASETS:
        allowed = ", ".join(repr(d) for d in DATASETS)
        raise ValueError(f"load_dataset: name must be one of {allowed}, got {name!r}")
    if fallback not in (None, "fashion-mnist"):
        raise ValueError(
            f"load_dataset: fallback must be 'fashion-mnist' or None, got {fallback!r}"
        )
    if name == "cifar10":
        try:
            return load_cifar10(root, download=download)
        except DatasetUnavailableError as error:
            if fallback is None:
                raise
            reason = str(error).splitlines()[0].rstrip(".")
            warnings.warn(
                f"CIFAR-10 could not be reached ({reason}); using Fashion-MNIST instead.",
                stacklevel=2,
            )
    return load_fashion_mnist(root, download=download)
