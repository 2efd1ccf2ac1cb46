"""Fashion-MNIST loading: the real files, source precedence and the error when none exists."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnlib import data


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    if compress:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)


def write_fashion_mnist_layout(folder: Path, fill: int, compress: bool = True) -> None:
    """Four IDX files of the right shapes, every pixel equal to ``fill``."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", 60_000), ("t10k", 10_000)):
        write_idx(
            folder / f"{split}-images-idx3-ubyte", np.full((n, 28, 28), fill, np.uint8), compress
        )
        write_idx(folder / f"{split}-labels-idx1-ubyte", np.arange(n) % 10, compress)


@pytest.fixture
def no_debian(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian-here")


def test_real_fashion_mnist_from_the_machine():
    dataset = data.load_fashion_mnist()
    assert dataset.train_images.shape == (60_000, 1, 28, 28)
    assert dataset.test_images.shape == (10_000, 1, 28, 28)
    assert dataset.train_images.dtype == torch.uint8 and dataset.train_labels.dtype == torch.int64
    # Xiao et al. (2017): ten balanced classes, 6,000 training and 1,000 test images each.
    assert torch.bincount(dataset.train_labels).tolist() == [6_000] * 10
    assert torch.bincount(dataset.test_labels).tolist() == [1_000] * 10
    assert dataset.classes[0] == "T-shirt/top" and dataset.classes[9] == "Ankle boot"
    # Per-channel statistics recomputed independently with numpy.
    pixels = dataset.train_images.numpy().astype(np.float64) / 255
    assert dataset.mean[0] == pytest.approx(pixels.mean(), rel=1e-9)
    assert dataset.std[0] == pytest.approx(pixels.std(ddof=1), rel=1e-9)
    assert dataset.image_shape == (1, 28, 28)


def test_debian_path_is_read_when_the_cache_is_empty(tmp_path, monkeypatch):
    debian = tmp_path / "debian"
    write_fashion_mnist_layout(debian, fill=7)
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", debian)
    dataset = data.load_fashion_mnist(tmp_path / "empty-cache", download=False)
    assert dataset.source == str(debian)
    assert int(dataset.train_images.max()) == 7


def test_cache_takes_precedence_over_debian(tmp_path, monkeypatch):
    debian = tmp_path / "debian"
    write_fashion_mnist_layout(debian, fill=7)
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", debian)
    write_fashion_mnist_layout(tmp_path / "cache" / "FashionMNIST" / "raw", fill=3, compress=False)
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "cache"))
    dataset = data.load_fashion_mnist(download=False)
    assert int(dataset.test_images.max()) == 3
    assert dataset.source == str(tmp_path / "cache" / "FashionMNIST" / "raw")


def test_no_source_gives_instructions(tmp_path, no_debian):
    with pytest.raises(data.DatasetUnavailableError) as error:
        data.load_fashion_mnist(tmp_path, download=False)
    message = str(error.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert str(tmp_path / "fashion-mnist") in message and "download=False" in message


def test_failed_download_is_reported(tmp_path, no_debian, monkeypatch):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", offline)
    with pytest.raises(data.DatasetUnavailableError, match="download failed.*network unreachable"):
        data.load_fashion_mnist(tmp_path, download=True)


def test_wrong_shapes_are_rejected(tmp_path, no_debian):
    folder = tmp_path / "fashion-mnist"
    write_fashion_mnist_layout(folder, fill=1)
    write_idx(folder / "t10k-labels-idx1-ubyte", np.zeros(9_999, np.uint8))
    with pytest.raises(ValueError, match="test split"):
        data.load_fashion_mnist(tmp_path, download=False)


def test_read_idx_rejects_other_files(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x01abcd")  # type 0x0D is float
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(bad)
    truncated = tmp_path / "truncated"
    truncated.write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 5) + b"abc")
    with pytest.raises(ValueError, match="expected 13"):
        data.read_idx(truncated)


def test_read_idx_reads_what_was_written(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "x", array, compress=False)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "x"), array)


def test_data_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "env"))
    assert data.data_root(tmp_path / "explicit") == tmp_path / "explicit"
    assert data.data_root() == tmp_path / "env"
    monkeypatch.delenv("CNNLIB_DATA")
    assert data.data_root() == Path.home() / ".cache" / "cnnlib"
    with pytest.raises(TypeError, match="root"):
        data.data_root(3)


def small_dataset(n_train: int = 5, n_test: int = 7) -> data.ImageDataset:
    images = torch.arange(n_train + n_test, dtype=torch.uint8).view(-1, 1, 1, 1).expand(-1, 1, 2, 2)
    labels = torch.arange(n_train + n_test) % 3
    return data.ImageDataset(
        name="toy",
        train_images=images[:n_train],
        train_labels=labels[:n_train],
        test_images=images[n_train:],
        test_labels=labels[n_train:],
        classes=("a", "b", "c"),
        mean=(0.5,),
        std=(0.25,),
        source="memory",
    )


def test_limit_test_set_keeps_the_first_test_images_and_the_rest():
    toy = small_dataset()
    limited = data.limit_test_set(toy, 3)
    # Test images 5, 6, 7 (the first three after the five training images) and their labels.
    assert limited.test_images[:, 0, 0, 0].tolist() == [5, 6, 7]
    assert limited.test_labels.tolist() == [2, 0, 1]
    assert limited.train_images is toy.train_images and limited.train_labels is toy.train_labels
    assert (limited.mean, limited.std) == (toy.mean, toy.std)
    assert limited.augmentation == toy.augmentation
    assert len(toy.test_labels) == 7  # the original is unchanged
    assert data.limit_test_set(toy, None) is toy
    assert len(data.limit_test_set(toy, 100).test_labels) == 7


@pytest.mark.parametrize(
    "dataset, n, error, match",
    [
        (None, 3, TypeError, "dataset"),
        ("toy", 0, ValueError, "max_test_samples"),
        ("toy", 2.5, ValueError, "max_test_samples"),
        ("toy", True, ValueError, "max_test_samples"),
    ],
)
def test_limit_test_set_rejects_bad_input(dataset, n, error, match):
    with pytest.raises(error, match=match):
        data.limit_test_set(small_dataset() if dataset == "toy" else dataset, n)
