"""Writing output in one place: atomic files and folders, and output locations checked before any work.

Every file solid-bench writes whole (Result JSON, manifests, exports, leaderboards, seeds,
model cards, downloads) goes through ``atomic_write``: a temporary file in the same folder,
flushed and fsync'd, then renamed over the target, so a kill or a full disk never leaves a
half-written file. Folders are built in a ``staging_folder`` beside the target and moved into
place. The CLI calls ``check_output_folder`` / ``check_output_file`` on every ``--out`` before
it loads or computes anything, so a read-only location, or a file where a folder is expected
(or the reverse), is one sentence and leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator

from .errors import UserError


def _file_mode() -> int:
    """The mode ``open`` gives a new file under this process's umask (mkstemp's own 0600 is for secrets)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


#: read once, at import: changing the umask is process-wide, so it is not done per write
FILE_MODE = _file_mode()


@contextmanager
def atomic_write(path: Path | str, mode: str = "w") -> Iterator[IO]:
    """Yield a handle to a temporary file beside ``path``; on success it is fsync'd and renamed onto ``path``.

    An exception inside the with-block (a failed check of what was written, say) removes the
    temporary file and leaves ``path`` as it was. The file gets the usual mode (0666 less the umask).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path | str, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_write(path) as fh:
        fh.write(text)
    return Path(path)


def write_bytes_atomic(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_json_atomic(path: Path | str, obj: Any, *, indent: int = 2, sort_keys: bool = False) -> Path:
    """Write ``obj`` as JSON (UTF-8, not ASCII-escaped, newline at the end) to ``path`` atomically."""
    with atomic_write(path) as fh:
        json.dump(obj, fh, indent=indent, sort_keys=sort_keys, ensure_ascii=False)
        fh.write("\n")
    return Path(path)


def copy_file_atomic(src: Path | str, dst: Path | str) -> Path:
    """Copy ``src`` to ``dst`` atomically."""
    with open(src, "rb") as fin, atomic_write(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout)
    return Path(dst)


@contextmanager
def staging_folder(target: Path | str) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``target`` (same file system, so renames are atomic); removed afterwards."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def move_into(staging: Path | str, files: list[Path], out_dir: Path | str) -> list[Path]:
    """Move ``files`` (written under the folder ``staging``) into ``out_dir`` at the same relative paths, each
    by one rename, replacing what is there; returns their new paths. Other files in ``out_dir`` stay."""
    staging, out_dir = Path(staging), Path(out_dir)
    moved = []
    for path in files:
        target = out_dir / Path(path).relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        moved.append(target)
    return moved


def replace_folder(src: Path | str, target: Path | str) -> Path:
    """Move folder ``src`` to ``target``, replacing a folder already there (moved aside first, then removed)."""
    src, target = Path(src), Path(target)
    if not target.exists():
        os.replace(src, target)
        return target
    with staging_folder(target) as aside:
        os.replace(target, aside / "old")
        os.replace(src, target)
    return target


def _kind(p: Path, path: Path, option: str) -> str | None:
    """'folder', 'file' or None (nothing there) for ``p``; a path the system refuses is a UserError."""
    try:
        return "folder" if p.is_dir() else "file" if p.exists() else None
    except OSError as e:
        raise UserError(f"{option} {path}: {e.strerror}; choose another path.") from None


def _nearest_existing(path: Path, option: str) -> Path:
    """The closest existing folder at or above ``path``; a file on the way is a UserError."""
    p = path.absolute()
    while (kind := _kind(p, path, option)) is None:
        p = p.parent
    if kind == "file":
        raise UserError(f"{option} {path}: {p} is a file, so nothing can be written under it; choose another path.")
    return p


def _check_writable(folder: Path, path: Path, option: str) -> None:
    """Create and remove a probe file: the only test that holds for every user, root and read-only mounts included."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".solid-bench-probe-", dir=folder)
    except OSError as e:
        raise UserError(f"{option} {path}: cannot write in {folder} ({e.strerror}); choose a folder you can write to.") from None
    os.close(fd)
    os.unlink(probe)


def check_output_folder(path: Path | str, option: str = "--out") -> Path:
    """``path`` if a folder can be written there (it need not exist yet); else a UserError, before any work."""
    path = Path(path)
    if _kind(path, path, option) == "file":
        raise UserError(f"{option} {path} is a file; name a folder (it is made if missing).")
    _check_writable(_nearest_existing(path, option), path, option)
    return path


def check_output_file(path: Path | str, option: str = "--out") -> Path:
    """``path`` if a file can be written there (replacing one already there); else a UserError, before any work."""
    path = Path(path)
    if _kind(path, path, option) == "folder":
        raise UserError(f"{option} {path} is a folder; name a file in it, e.g. {path / 'out.jsonl'}.")
    _check_writable(_nearest_existing(path.parent, option), path, option)
    return path
