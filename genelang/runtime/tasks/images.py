"""Image classification data: Fashion-MNIST (the embedded default), digits,
CIFAR-10/100 and any ImageFolder tree. All become uint8/float tensors in
memory, normalised per channel with training-set statistics."""
from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genelang.atomic import atomic_write
from genelang.errors import DataError
from genelang.runtime.augment import Augment
from genelang.runtime.tasks import register_task

FMNIST_DIRS = ("/usr/share/datasets/fashion-mnist",)
CACHE = Path(os.environ.get("GENELANG_CACHE", Path.home() / ".cache" / "genelang"))


@dataclass
class ImageData:
    train_x: torch.Tensor        # float, N×C×H×W, normalised
    train_y: torch.Tensor        # int64
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    name: str
    augment: Augment = Augment()   # the task's default training augmentation
    # per-channel statistics of the training set that standardised the pixels
    # (in [0, 1] before): what a shipped network applies to a raw image
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    skipped: tuple[str, ...] = ()  # image-folder with skip_bad_images: the files left out

    @property
    def in_channels(self) -> int:
        return self.train_x.shape[1]

    @property
    def image_size(self) -> int:
        return self.train_x.shape[-1]


def _image_data(train: torch.Tensor, train_y: torch.Tensor, test: torch.Tensor, test_y: torch.Tensor,
                num_classes: int, name: str, augment: Augment = Augment()) -> ImageData:
    """uint8 images scaled to [0, 1], then standardised per channel with the training set's statistics."""
    train, test = train.float() / 255.0, test.float() / 255.0
    mean = train.mean(dim=(0, 2, 3), keepdim=True)
    std = train.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    return ImageData((train - mean) / std, train_y, (test - mean) / std, test_y, num_classes, name, augment,
                     tuple(mean.flatten().tolist()), tuple(std.flatten().tolist()))


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _find_idx(root: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):
        if (root / name).exists():
            return root / name
    return None


@register_task("fashion-mnist", "image")
def fashion_mnist(root: str | None = None, **_) -> ImageData:
    """Fashion-MNIST from the Debian package `dataset-fashion-mnist`, a user root
    holding the four IDX files, or torchvision's downloader as a last resort."""
    dirs = [Path(root)] if root else [Path(d) for d in FMNIST_DIRS]
    stems = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    for d in dirs:
        paths = [_find_idx(d, s) for s in stems]
        if all(paths):
            tx, ty, vx, vy = (_read_idx(p) for p in paths)
            return _image_data(torch.from_numpy(tx.copy()).unsqueeze(1), torch.from_numpy(ty.astype(np.int64)),
                               torch.from_numpy(vx.copy()).unsqueeze(1), torch.from_numpy(vy.astype(np.int64)),
                               10, "fashion-mnist")
    if root is None:
        try:
            from torchvision.datasets import FashionMNIST
            tr = FashionMNIST(str(CACHE), train=True, download=True)
            te = FashionMNIST(str(CACHE), train=False, download=True)
            return _image_data(tr.data.unsqueeze(1), tr.targets.long(), te.data.unsqueeze(1), te.targets.long(),
                               10, "fashion-mnist")
        except Exception:   # offline: fall through to the message below
            pass
    looked = ", ".join(str(d) for d in dirs)
    raise DataError.at("data", "Fashion-MNIST not found", looked,
                       hint="install it with `apt-get install dataset-fashion-mnist` (Debian), "
                            "or give a root holding the four *-ubyte(.gz) IDX files")


@register_task("digits", "image")
def digits(**_) -> ImageData:
    """scikit-learn's bundled 8×8 digits (1,797 images): tiny, for tests."""
    from sklearn.datasets import load_digits
    d = load_digits()
    x = torch.from_numpy((d.images * (255.0 / 16.0)).astype(np.uint8)).unsqueeze(1)
    y = torch.from_numpy(d.target.astype(np.int64))
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    test_idx, train_idx = perm[:297], perm[297:]
    return _image_data(x[train_idx], y[train_idx], x[test_idx], y[test_idx], 10, "digits")


def _unpickle(path: Path) -> dict:
    import pickle
    with open(path, "rb") as f:
        return pickle.load(f, encoding="latin1")


def _cifar(folder: str, train_files: list[str], label_key: str, name: str, n_classes: int,
           root: str | None) -> ImageData:
    """The python-pickle batches of the CIFAR release (what torchvision reads),
    under ROOT or ROOT/<folder>."""
    if not root:
        raise DataError.at("data", f"{name} needs a data root", "root=",
                           hint=f"the directory holding {folder}/ (the python-pickle batches); "
                                "nothing is downloaded")
    base = Path(root) / folder if (Path(root) / folder).is_dir() else Path(root)
    files = [base / f for f in train_files] + [base / "test" if name == "cifar100" else base / "test_batch"]
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        raise DataError.at("data", f"{name} batches not found", str(base),
                           hint=f"missing: {', '.join(Path(m).name for m in missing)}")
    try:
        batches = [_unpickle(f) for f in files]
    except Exception as err:
        raise DataError.at("data", f"{name} batches unreadable ({type(err).__name__})", str(base)) from None
    to_t = lambda b: torch.from_numpy(np.asarray(b["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).copy())
    labels = lambda b: torch.tensor(b[label_key], dtype=torch.long)
    train_x = torch.cat([to_t(b) for b in batches[:-1]])
    train_y = torch.cat([labels(b) for b in batches[:-1]])
    return _image_data(train_x, train_y, to_t(batches[-1]), labels(batches[-1]), n_classes, name,
                       Augment(pad=4, flip=True))


@register_task("cifar10", "image")
def cifar10(root: str | None = None, **_) -> ImageData:
    return _cifar("cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)], "labels",
                  "cifar10", 10, root)


@register_task("cifar100", "image")
def cifar100(root: str | None = None, **_) -> ImageData:
    return _cifar("cifar-100-python", ["train"], "fine_labels", "cifar100", 100, root)


def _decode_all(ds, skip_bad: bool) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """An ImageFolder's (images, labels, files left out). A file PIL cannot read
    (corrupt, truncated, not an image) is a DataError naming it, not PIL's
    traceback; with `skip_bad` it is left out and listed instead."""
    images, labels, skipped = [], [], []
    for i, (path, label) in enumerate(ds.samples):
        try:
            images.append(ds[i][0])
        except OSError as err:     # PIL's UnidentifiedImageError and truncated-file errors are OSErrors
            if not skip_bad:
                raise DataError.at("data", f"cannot read image {path}: {err}", path,
                                   hint="remove or replace the file, or skip such files (--skip-bad-images, "
                                        "task.skip_bad_images: true)") from None
            skipped.append(path)
            continue
        labels.append(label)
    if not images:
        raise DataError.at("data", f"no readable image under {ds.root}", ds.root)
    return torch.stack(images), torch.tensor(labels), skipped


def _folder_cache(base: Path, image_size: int, skip_bad: bool) -> Path:
    import hashlib
    h = hashlib.sha256(f"{base.resolve()}\0{image_size}{chr(0) + 'skip' if skip_bad else ''}".encode())
    for part in ("train", "test"):
        for path in sorted((base / part).rglob("*")):
            if path.is_file():
                st = path.stat()
                h.update(f"\0{path.relative_to(base)}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    return CACHE / "image-folder" / f"{h.hexdigest()[:24]}.pt"


@register_task("image-folder", "image")
def image_folder(root: str | None = None, image_size: int = 32, skip_bad_images: bool = False, **_) -> ImageData:
    """ROOT/train/<class>/*.png|jpg and ROOT/test/<class>/..., decoded once and
    cached as tensors under $GENELANG_CACHE/image-folder/ (so ROOT may be
    read-only), keyed by ROOT, the size and every file's name, size and
    modification time: adding or changing an image decodes again. A file that
    is no readable image is an error, or with `skip_bad_images` left out and
    listed in the data's `skipped`."""
    if not root:
        raise DataError.at("data", "image-folder needs a data root", "root=",
                           hint="ROOT/train/<class>/*.png and ROOT/test/<class>/*.png")
    base = Path(root)
    for part in ("train", "test"):
        if not (base / part).is_dir():
            raise DataError.at("data", f"no {part}/ directory", str(base),
                               hint="expected ROOT/train/<class>/... and ROOT/test/<class>/...")
    cache = _folder_cache(base, image_size, skip_bad_images)
    if cache.exists():
        blob = torch.load(cache)
    else:
        from torchvision import datasets, transforms
        tf = transforms.Compose([transforms.Lambda(lambda im: im.convert("RGB")),
                                 transforms.Resize((image_size, image_size)), transforms.PILToTensor()])
        blob = {"skipped": []}
        for part in ("train", "test"):
            ds = datasets.ImageFolder(str(base / part), transform=tf)
            if part == "test" and ds.classes != blob["classes"]:
                raise DataError.at("data", "train/ and test/ have different classes", str(base))
            images, labels, skipped = _decode_all(ds, skip_bad_images)
            blob[part] = (images, labels)
            blob["skipped"] += skipped
            blob["classes"] = ds.classes
        atomic_write(cache, lambda tmp: torch.save(blob, tmp))
    data = _image_data(blob["train"][0], blob["train"][1], blob["test"][0], blob["test"][1],
                       len(blob["classes"]), "image-folder", Augment(pad=max(1, image_size // 8), flip=True))
    data.skipped = tuple(blob.get("skipped", ()))
    return data
