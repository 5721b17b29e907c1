"""Reading the files a user gives, in one place: strict UTF-8, file:line on every mistake.

Dialog files (every format), ``--seeds`` files, matrix configs and Result files are all read
through these helpers. A missing path, a folder where a file was expected, an unreadable or
empty file, a byte-order mark, bytes that are not UTF-8 (anywhere in the file, not only the
first line) and malformed JSON or TOML each become one UserError sentence naming the file (and
the line), never a traceback. Sniffing a file's format is the one lossy read (``head``).
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any, Iterator

from .errors import UserError

BOM = b"\xef\xbb\xbf"
SAVE_AS_UTF8 = "save the file as UTF-8"


def check_file(path: Path | str) -> Path:
    """``path`` as a Path when it names a readable regular file; a UserError otherwise."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UserError(f"{path}: no such file; check the path.") from None
    except OSError as e:
        raise UserError(f"{path}: cannot read it ({e.strerror}); check the path.") from None
    if stat.S_ISDIR(mode):
        raise UserError(f"{path} is a folder, not a file; name a file.")
    if not stat.S_ISREG(mode):
        raise UserError(f"{path} is not a regular file; name a file.")
    return path


def _bom_error(path: Path) -> UserError:
    return UserError(f"{path}:1: the file starts with a byte-order mark (BOM); {SAVE_AS_UTF8} without BOM.")


def _decode_error(path: Path, line: int, column: int, byte: int) -> UserError:
    return UserError(f"{path}:{line}: byte 0x{byte:02x} at column {column} is not UTF-8 text; {SAVE_AS_UTF8}.")


def read_bytes(path: Path | str) -> bytes:
    """The whole file's bytes, with the errors of ``check_file`` and of reading as UserErrors."""
    path = check_file(path)
    try:
        return path.read_bytes()
    except OSError as e:
        raise UserError(f"{path}: cannot read it ({e.strerror}); check its permissions.") from None


def decode(data: bytes, path: Path | str) -> str:
    """``data`` decoded as strict UTF-8; a BOM or an undecodable byte is a UserError naming path:line."""
    if data.startswith(BOM):
        raise _bom_error(Path(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line_start = data.rfind(b"\n", 0, e.start) + 1
        raise _decode_error(Path(path), data.count(b"\n", 0, e.start) + 1, e.start - line_start + 1, data[e.start]) from None


def read_text(path: Path | str, allow_empty: bool = False) -> str:
    """The whole file as text (strict UTF-8); an empty or blank file is a UserError unless ``allow_empty``."""
    text = decode(read_bytes(path), path)
    if not allow_empty and not text.strip():
        raise UserError(f"{path}: the file is empty.")
    return text


def iter_lines(path: Path | str) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line (newline kept), decoded line by line so big files stream."""
    path = check_file(path)
    try:
        fh = open(path, "rb")
    except OSError as e:
        raise UserError(f"{path}: cannot read it ({e.strerror}); check its permissions.") from None
    with fh:
        for lineno, raw in enumerate(fh, 1):
            if lineno == 1 and raw.startswith(BOM):
                raise _bom_error(path)
            try:
                yield lineno, raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise _decode_error(path, lineno, e.start + 1, raw[e.start]) from None


def check_utf8(path: Path | str) -> None:
    """Read the whole file line by line; a BOM or a byte that is not UTF-8 is a UserError naming path:line."""
    for _ in iter_lines(path):
        pass


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def parse_json(text: str, where: str) -> Any:
    """``json.loads`` whose errors (and repeated keys in one object) are UserErrors naming ``where``."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as e:
        line = "" if "\n" not in text.rstrip("\r\n") else f":{e.lineno}"  # JSON Lines: ``where`` has the line
        raise UserError(f"{where}{line}: not valid JSON ({e.msg} at column {e.colno}).") from None
    except _DuplicateKey as e:
        raise UserError(f"{where}: the key {e.args[0]!r} occurs twice in one JSON object; keys must be unique.") from None
    except RecursionError:
        raise UserError(f"{where}: the JSON is nested too deeply to read.") from None


def load_json(path: Path | str) -> Any:
    """The JSON value of a whole file (strict UTF-8, not empty, no repeated keys)."""
    return parse_json(read_text(path), str(path))


def iter_jsonl(path: Path | str) -> Iterator[tuple[int, Any]]:
    """(line number, value) of each non-blank line of a JSON Lines file; errors name file:line."""
    for lineno, line in iter_lines(path):
        if line.strip():
            yield lineno, parse_json(line.rstrip("\r\n"), f"{path}:{lineno}")


def load_toml(path: Path | str) -> dict[str, Any]:
    """The table of a TOML file; bad bytes and bad TOML are UserErrors naming the file and line."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    text = read_text(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{path}: not valid TOML ({e}).") from None


def is_blank(path: Path | str) -> bool:
    """True for a file that is empty or holds only whitespace (read in blocks, so big files are cheap)."""
    path = check_file(path)
    try:
        with open(path, "rb") as fh:
            while block := fh.read(1 << 16):
                if block.strip():
                    return False
    except OSError as e:
        raise UserError(f"{path}: cannot read it ({e.strerror}); check its permissions.") from None
    return True


def head(path: Path | str, n: int = 1 << 20) -> str:
    """The first ``n`` bytes as text, undecodable bytes replaced: for sniffing a format only."""
    try:
        with open(path, "rb") as fh:
            return fh.read(n).decode("utf-8", errors="replace")
    except OSError:
        return ""


def first_line(path: Path | str) -> str:
    """The first non-blank line (lossy, like ``head``): for sniffing a format only."""
    try:
        with open(path, "rb") as fh:
            for raw in fh:
                if raw.strip():
                    return raw.decode("utf-8", errors="replace")
    except OSError:
        pass
    return ""
