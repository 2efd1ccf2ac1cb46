"""Batch augmentation, the CIFAR-10 reader and download, and ``load_dataset``'s fallback.

The augmentation is checked against references written here: a per-sample loop
over the same random draws (re-drawn from a cloned generator by the order the
docstring documents) and a brute-force search for each crop's window. CIFAR-10
is exercised offline with a small archive built here in CIFAR-10's format (same
member names and pickle layout, a few random images per batch): test fixture
data, not the real dataset, served from 127.0.0.1.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import pickle
import socket
import tarfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib import data
from cnnlib.data import Augmentation

# ---------------------------------------------------------------- augmentation


def distinctive(n: int, c: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    """Random uint8 images without zeros, so a crop's window and a flip are unambiguous."""
    return torch.randint(1, 256, (n, c, h, w), generator=torch.Generator().manual_seed(seed)).to(
        torch.uint8
    )


def redraw(
    augmentation: Augmentation, n: int, state: torch.Tensor
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The offsets and flips a generator in ``state`` gives, by the documented draw order."""
    generator = torch.Generator().set_state(state)
    p = augmentation.crop_padding
    offsets = torch.randint(0, 2 * p + 1, (n, 2), generator=generator) if p else None
    flips = None
    if augmentation.horizontal_flip:
        flips = torch.randint(0, 2, (n,), generator=generator).bool()
    return offsets, flips


def reference(
    images: torch.Tensor, p: int, offsets: torch.Tensor | None, flips: torch.Tensor | None
) -> torch.Tensor:
    """Crop then flip, one sample at a time."""
    h, w = images.shape[-2:]
    out = []
    for i, image in enumerate(images):
        if offsets is not None:
            dy, dx = offsets[i].tolist()
            image = F.pad(image, (p, p, p, p))[:, dy : dy + h, dx : dx + w]
        if flips is not None and flips[i]:
            image = image.flip(-1)
        out.append(image)
    return torch.stack(out)


@pytest.mark.parametrize(
    "augmentation",
    [Augmentation(), Augmentation(horizontal_flip=True), Augmentation(crop_padding=2),
     Augmentation(crop_padding=4, horizontal_flip=True)],
)  # fmt: skip
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("n", [0, 1, 5])
def test_shape_dtype_and_device_are_kept(augmentation, dtype, n):
    images = distinctive(n, 3, 6, 7).to(dtype)
    out = augmentation(images, torch.Generator().manual_seed(0))
    assert out.shape == images.shape and out.dtype == dtype and out.device == images.device


def test_disabled_augmentation_returns_the_batch_unchanged():
    images = distinctive(8, 1, 5, 5)
    before = images.clone()
    assert not Augmentation().enabled
    assert Augmentation()(images) is images
    assert torch.equal(images, before)
    assert Augmentation(horizontal_flip=True).enabled and Augmentation(crop_padding=1).enabled


def test_flips_flip_exactly_the_drawn_images():
    images = distinctive(256, 3, 6, 7)
    generator = torch.Generator().manual_seed(1)
    state = generator.get_state()
    augmentation = Augmentation(horizontal_flip=True)
    out = augmentation(images, generator)
    same = (out == images).flatten(1).all(1)
    mirrored = (out == images.flip(-1)).flatten(1).all(1)
    assert bool((same ^ mirrored).all()), "every image is either itself or its mirror image"
    assert 0 < int(mirrored.sum()) < 256, "both outcomes occur"
    _, flips = redraw(augmentation, 256, state)
    assert torch.equal(mirrored, flips)


def test_crops_are_windows_of_the_padded_image_within_bounds():
    p, (n, c, h, w) = 3, (1000, 3, 8, 8)
    images = distinctive(n, c, h, w, seed=2)
    generator = torch.Generator().manual_seed(3)
    state = generator.get_state()
    augmentation = Augmentation(crop_padding=p)
    out = augmentation(images, generator)

    # Search every window of a wider frame (padding 2p): a crop outside [0, 2p]² would show.
    frame = F.pad(images, (2 * p,) * 4)
    windows = frame.unfold(2, h, 1).unfold(3, w, 1)  # (N, C, 4p + 1, 4p + 1, H, W)
    matches = (windows == out[:, :, None, None]).all(5).all(4).all(1).flatten(1)
    assert matches.sum(1).tolist() == [1] * n, "exactly one window per image"
    start = matches.int().argmax(1)
    found = torch.stack([start // (4 * p + 1), start % (4 * p + 1)], dim=1) - p  # frame padded by p
    assert int(found.min()) >= 0 and int(found.max()) <= 2 * p
    every_offset = {(a, b) for a in range(2 * p + 1) for b in range(2 * p + 1)}
    assert {tuple(o) for o in found.tolist()} == every_offset
    offsets, _ = redraw(augmentation, n, state)
    assert torch.equal(found, offsets)

    # Where the window covers the original image its pixels are the original's; elsewhere black.
    for image, crop, (dy, dx) in zip(images, out, found.tolist(), strict=True):
        sy, sx = dy - p, dx - p  # output pixel (y, x) shows original pixel (y + sy, x + sx)
        ys, xs = slice(max(0, -sy), min(h, h - sy)), slice(max(0, -sx), min(w, w - sx))
        covered = image[:, max(0, sy) : min(h, h + sy), max(0, sx) : min(w, w + sx)]
        assert torch.equal(crop[:, ys, xs], covered)
        assert int(crop.sum(dtype=torch.int64)) == int(covered.sum(dtype=torch.int64))


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("p, flip", [(1, False), (2, True), (4, True), (0, True)])
def test_batch_equals_a_per_sample_loop_with_the_same_draws(p, flip, dtype):
    images = distinctive(64, 3, 9, 9, seed=4).to(dtype)
    if dtype.is_floating_point:
        images = images / 255
    generator = torch.Generator().manual_seed(5)
    augmentation = Augmentation(crop_padding=p, horizontal_flip=flip)
    expected = reference(images, p, *redraw(augmentation, 64, generator.get_state()))
    assert torch.equal(augmentation(images, generator), expected)


def test_same_seed_same_batch_different_seed_different_batch():
    images = distinctive(128, 3, 8, 8, seed=6)
    augmentation = Augmentation(crop_padding=4, horizontal_flip=True)
    first = augmentation(images, torch.Generator().manual_seed(7))
    assert torch.equal(first, augmentation(images, torch.Generator().manual_seed(7)))
    assert not torch.equal(first, augmentation(images, torch.Generator().manual_seed(8)))
    with torch.random.fork_rng():  # without a generator: torch's global one
        torch.manual_seed(7)
        global_draw = augmentation(images)
    assert torch.equal(global_draw, first)


def test_non_contiguous_batches():
    images = distinctive(64, 3, 8, 8, seed=9)
    strided = images[::2].contiguous(memory_format=torch.channels_last)
    augmentation = Augmentation(crop_padding=2, horizontal_flip=True)
    out = augmentation(strided, torch.Generator().manual_seed(0))
    assert torch.equal(
        out, augmentation(images[::2].contiguous(), torch.Generator().manual_seed(0))
    )


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU to compare with the CPU"
)
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_cuda_result_equals_cpu_result(dtype):
    images = distinctive(512, 3, 32, 32, seed=10).to(dtype)
    augmentation = Augmentation(crop_padding=4, horizontal_flip=True)
    on_gpu = augmentation(images.cuda(), torch.Generator().manual_seed(11))
    assert on_gpu.device.type == "cuda" and on_gpu.dtype == dtype
    assert torch.equal(on_gpu.cpu(), augmentation(images, torch.Generator().manual_seed(11)))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"crop_padding": -1}, ValueError, r"crop_padding must be a non-negative int, got -1"),
        ({"crop_padding": 1.5}, TypeError, r"crop_padding must be a non-negative int, got 1\.5"),
        ({"crop_padding": True}, TypeError, r"crop_padding must be a non-negative int, got True"),
        ({"horizontal_flip": 1}, TypeError, r"horizontal_flip must be a bool, got 1"),
    ],
)
def test_bad_augmentation_settings_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        Augmentation(**kwargs)


def test_bad_batches_and_generators_are_named():
    augmentation = Augmentation(horizontal_flip=True)
    with pytest.raises(TypeError, match=r"images must be a torch\.Tensor.*got ndarray"):
        augmentation(np.zeros((1, 1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match=r"images must be a 4-D tensor.*got shape \(3, 4, 4\)"):
        augmentation(torch.zeros(3, 4, 4))
    with pytest.raises(TypeError, match=r"generator must be a torch\.Generator or None, got 7"):
        augmentation(torch.zeros(1, 1, 2, 2), 7)
    with pytest.raises(TypeError, match="generator"):
        Augmentation()(torch.zeros(1, 1, 2, 2), 7)  # checked even when disabled


def test_dataset_default_is_no_augmentation():
    assert data.ImageDataset.__dataclass_fields__["augmentation"].default == Augmentation()


# ---------------------------------------------------------------- CIFAR-10 fixture

MEMBER = "cifar-10-batches-py/{}"
TRAIN_SIZES = (3, 4, 5, 6, 7)
TEST_SIZE = 8


def make_batch(rng: np.random.Generator, n: int, name: str) -> dict[bytes, object]:
    """One batch in CIFAR-10's pickle layout: rows of 3072 channel-major uint8 values."""
    return {
        b"batch_label": f"fixture {name}".encode(),
        b"labels": rng.integers(0, 10, n).tolist(),
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"filenames": [f"fixture_{name}_{i}.png".encode() for i in range(n)],
    }


def add_member(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


@pytest.fixture(scope="module")
def fixture_batches() -> dict[str, dict[bytes, object]]:
    rng = np.random.default_rng(2009)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    return {
        name: make_batch(rng, n, name)
        for name, n in zip(names, (*TRAIN_SIZES, TEST_SIZE), strict=True)
    }


def build_archive(
    batches: dict[str, dict[bytes, object]], extra: dict[str, bytes] | None = None
) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        meta = {b"label_names": [c.encode() for c in data.CIFAR10_CLASSES]}
        add_member(tar, MEMBER.format("batches.meta"), pickle.dumps(meta, protocol=2))
        for name, batch in batches.items():
            add_member(tar, MEMBER.format(name), pickle.dumps(batch, protocol=2))
        for name, payload in (extra or {}).items():
            add_member(tar, name, payload)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def archive(fixture_batches) -> bytes:
    # A member outside the archive's folder: a reader that extracted would write it.
    return build_archive(fixture_batches, {"../escaped.txt": b"must not be written"})


class Server(http.server.ThreadingHTTPServer):
    """Serves ``routes[path] = (payload, bytes to send before hanging up or None)``."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes: dict[str, tuple[bytes, int | None]] = {}
        self.hits: list[str] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class Handler(http.server.BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.hits.append(self.path)
        if self.path not in self.server.routes:
            self.send_error(404)
            return
        payload, cut = self.server.routes[self.path]
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload[:cut])  # with a cut, the connection then closes early
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Server]:
    httpd = Server()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def refused_url() -> str:
    """A URL on a local port nothing listens on: the connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/cifar-10-python.tar.gz"


def md5(payload: bytes) -> str:
    return hashlib.md5(payload).hexdigest()


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def expected_split(
    batches: dict[str, dict[bytes, object]], names: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Images by the layout's definition, pixel (c, y, x) = row[1024 c + 32 y + x], and labels."""
    rows = np.concatenate([batches[n][b"data"] for n in names])
    c, y, x = np.indices((3, 32, 32))
    return rows[:, 1024 * c + 32 * y + x], np.concatenate([batches[n][b"labels"] for n in names])


def assert_is_fixture(dataset: data.ImageDataset, batches) -> None:
    train_names = [f"data_batch_{i}" for i in range(1, 6)]
    train_images, train_labels = expected_split(batches, train_names)
    test_images, test_labels = expected_split(batches, ["test_batch"])
    assert dataset.train_images.shape == (sum(TRAIN_SIZES), 3, 32, 32)
    assert dataset.test_images.shape == (TEST_SIZE, 3, 32, 32)
    assert dataset.train_images.dtype == torch.uint8 and dataset.train_labels.dtype == torch.int64
    np.testing.assert_array_equal(dataset.train_images.numpy(), train_images)
    np.testing.assert_array_equal(dataset.train_labels.numpy(), train_labels)
    np.testing.assert_array_equal(dataset.test_images.numpy(), test_images)
    np.testing.assert_array_equal(dataset.test_labels.numpy(), test_labels)
    # By hand: the 2nd image of data_batch_2 is training image 3 + 1; green (1024..2047),
    # row 5, column 7 is byte 1024 + 5 * 32 + 7 = 1191 of its row.
    assert int(dataset.train_images[4, 1, 5, 7]) == int(batches["data_batch_2"][b"data"][1, 1191])
    assert int(dataset.test_images[7, 2, 31, 0]) == int(
        batches["test_batch"][b"data"][7, 2048 + 992]
    )
    pixels = train_images.astype(np.float64) / 255
    assert dataset.mean == pytest.approx(pixels.mean(axis=(0, 2, 3)).tolist(), rel=1e-12)
    assert dataset.std == pytest.approx(pixels.std(axis=(0, 2, 3), ddof=1).tolist(), rel=1e-12)
    assert dataset.classes == ("airplane", "automobile", "bird", "cat", "deer",
                               "dog", "frog", "horse", "ship", "truck")  # fmt: skip
    assert dataset.name == "CIFAR-10"
    assert dataset.augmentation == Augmentation(crop_padding=4, horizontal_flip=True)


# ---------------------------------------------------------------- CIFAR-10 tests


def test_cifar10_download_verifies_and_parses(tmp_path, server, archive, fixture_batches):
    server.routes["/cifar.tar.gz"] = (archive, None)
    dataset = data.load_cifar10(tmp_path, url=server.url("/cifar.tar.gz"), md5=md5(archive))
    assert_is_fixture(dataset, fixture_batches)
    final = tmp_path / "cifar-10" / "cifar-10-python.tar.gz"
    assert dataset.source == str(final)
    # No temporary file left, nothing extracted.
    assert files_under(tmp_path) == ["cifar-10/cifar-10-python.tar.gz"]
    assert final.read_bytes() == archive
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert server.hits == ["/cifar.tar.gz"]


def test_wrong_md5_leaves_no_file(tmp_path, server, archive):
    server.routes["/cifar.tar.gz"] = (archive, None)
    with pytest.raises(data.DatasetUnavailableError, match=f"MD5 {md5(archive)}, expected 0{{32}}"):
        data.load_cifar10(tmp_path, url=server.url("/cifar.tar.gz"), md5="0" * 32)
    assert files_under(tmp_path) == []


def test_connection_lost_mid_stream_is_reported(tmp_path, server, archive):
    url = server.url("/cifar.tar.gz")
    server.routes["/cifar.tar.gz"] = (archive, len(archive) // 2)
    with pytest.raises(data.DatasetUnavailableError) as error:
        data.load_cifar10(tmp_path, url=url, md5=md5(archive))
    message = str(error.value)
    assert url in message and str(tmp_path / "cifar-10" / "cifar-10-python.tar.gz") in message
    # Our length check, or http.client's own on Pythons that raise on a short body.
    assert "connection closed after" in message or "IncompleteRead" in message
    assert files_under(tmp_path) == []


def test_unreachable_url_says_what_was_tried_and_what_to_do(tmp_path, refused_url):
    with pytest.raises(data.DatasetUnavailableError) as error:
        data.load_cifar10(tmp_path, url=refused_url)
    message = str(error.value)
    final = tmp_path / "cifar-10" / "cifar-10-python.tar.gz"
    assert f"downloading {refused_url} to {final} failed (URLError" in message
    assert f"save it as {final}" in message and str(tmp_path / "cifar-10-batches-py") in message
    assert "load_fashion_mnist()" in message and "dataset-fashion-mnist" in message
    assert isinstance(error.value.__cause__, OSError)
    assert files_under(tmp_path) == []


def test_missing_file_on_the_server_is_reported(tmp_path, server):
    with pytest.raises(data.DatasetUnavailableError, match="HTTPError.*404"):
        data.load_cifar10(tmp_path, url=server.url("/nothing-here"))


def test_no_download_when_disabled(tmp_path, server):
    with pytest.raises(data.DatasetUnavailableError, match="download=False"):
        data.load_cifar10(tmp_path, download=False, url=server.url("/cifar.tar.gz"))
    assert server.hits == []


def test_cached_archive_is_read_without_network(tmp_path, refused_url, archive, fixture_batches):
    final = tmp_path / "cifar-10" / "cifar-10-python.tar.gz"
    final.parent.mkdir()
    final.write_bytes(archive)
    dataset = data.load_cifar10(tmp_path, url=refused_url)
    assert_is_fixture(dataset, fixture_batches)
    assert dataset.source == str(final)


@pytest.mark.parametrize("folder", ["cifar-10/cifar-10-batches-py", "cifar-10-batches-py"])
def test_extracted_folders_are_read(tmp_path, folder, fixture_batches, monkeypatch, refused_url):
    (tmp_path / folder).mkdir(parents=True)
    for name, batch in fixture_batches.items():
        (tmp_path / folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path))
    dataset = data.load_cifar10(url=refused_url)
    assert_is_fixture(dataset, fixture_batches)
    assert dataset.source == str(tmp_path / folder)


def test_archive_without_a_batch_is_rejected(tmp_path, fixture_batches):
    batches = {k: v for k, v in fixture_batches.items() if k != "data_batch_3"}
    # In its place a symbolic link under its name, which is not a batch either.
    link = tarfile.TarInfo(MEMBER.format("data_batch_3"))
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w:gz") as tar:
        for name, batch in batches.items():
            add_member(tar, MEMBER.format(name), pickle.dumps(batch, protocol=2))
        tar.addfile(link)
    (tmp_path / "cifar-10").mkdir()
    (tmp_path / "cifar-10" / "cifar-10-python.tar.gz").write_bytes(payload.getvalue())
    with pytest.raises(ValueError, match="lacks the CIFAR-10 batches data_batch_3"):
        data.load_cifar10(tmp_path, download=False)


def test_pickles_cannot_run_code(tmp_path, fixture_batches):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    (tmp_path / "cifar-10-batches-py").mkdir()
    for name, batch in fixture_batches.items():
        content = {**batch, b"data": Payload()} if name == "test_batch" else batch
        (tmp_path / "cifar-10-batches-py" / name).write_bytes(pickle.dumps(content, protocol=2))
    with pytest.raises(ValueError, match=r"test_batch\) is not a CIFAR-10 batch.*may not refer to"):
        data.load_cifar10(tmp_path, download=False)
    assert not marker.exists()


def test_corrupt_cached_archive_is_reported(tmp_path):
    (tmp_path / "cifar-10").mkdir()
    (tmp_path / "cifar-10" / "cifar-10-python.tar.gz").write_bytes(b"not a gzip file")
    with pytest.raises(ValueError, match="is not a readable tar.gz archive.*delete it"):
        data.load_cifar10(tmp_path, download=False)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"download": "yes"}, TypeError, r"download must be a bool, got 'yes'"),
        ({"url": 3}, TypeError, r"url must be a str, got 3"),
        ({"md5": "xyz"}, ValueError, r"md5 must be a string of 32 hex digits, got 'xyz'"),
    ],
)
def test_bad_cifar10_arguments_are_named(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        data.load_cifar10(tmp_path, **kwargs)


# ---------------------------------------------------------------- load_dataset


def test_fallback_to_fashion_mnist_warns(tmp_path, monkeypatch, refused_url):
    monkeypatch.setattr(data, "load_cifar10", functools.partial(data.load_cifar10, url=refused_url))
    with pytest.warns(
        UserWarning, match="CIFAR-10 could not be reached.*using Fashion-MNIST instead"
    ):
        dataset = data.load_dataset("cifar10", root=tmp_path, fallback="fashion-mnist")
    assert dataset.name == "Fashion-MNIST" and dataset.train_images.shape == (60_000, 1, 28, 28)
    assert dataset.source == str(data.DEBIAN_FASHION_MNIST)
    assert dataset.augmentation == Augmentation(horizontal_flip=True)


def test_without_fallback_the_error_propagates(tmp_path):
    with pytest.raises(data.DatasetUnavailableError, match="CIFAR-10 was not found"):
        data.load_dataset("cifar10", root=tmp_path, download=False)


def test_load_dataset_reads_cifar10_without_warning(tmp_path, archive, fixture_batches):
    (tmp_path / "cifar-10").mkdir()
    (tmp_path / "cifar-10" / "cifar-10-python.tar.gz").write_bytes(archive)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset = data.load_dataset(
            "cifar10", root=tmp_path, download=False, fallback="fashion-mnist"
        )
    assert_is_fixture(dataset, fixture_batches)


def test_load_dataset_rejects_unknown_names():
    with pytest.raises(
        ValueError, match=r"name must be one of 'fashion-mnist', 'cifar10', got 'mnist'"
    ):
        data.load_dataset("mnist")
    with pytest.raises(
        ValueError, match=r"fallback must be 'fashion-mnist' or None, got 'cifar10'"
    ):
        data.load_dataset("cifar10", fallback="cifar10")
