"""solid_bench.inputs: strict UTF-8 with file:line and column, BOMs, empty files, JSON/JSONL/TOML errors."""

from __future__ import annotations

import pytest

from solid_bench.errors import UserError
from solid_bench.inputs import check_utf8, iter_jsonl, iter_lines, load_json, load_toml, parse_json, read_text


def _error(fn, *args) -> str:
    with pytest.raises(UserError) as e:
        fn(*args)
    return str(e.value)


def test_undecodable_byte_is_named_by_line_and_column(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"line one\nline two\nab\xffc\n")
    # the byte is the third character of line 3
    assert _error(read_text, path) == f"{path}:3: byte 0xff at column 3 is not UTF-8 text; save the file as UTF-8."
    assert _error(check_utf8, path) == f"{path}:3: byte 0xff at column 3 is not UTF-8 text; save the file as UTF-8."
    assert _error(lambda p: list(iter_lines(p)), path).startswith(f"{path}:3: byte 0xff at column 3 ")


def test_a_truncated_multibyte_sequence_at_the_end(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes('{"t": "caf\u00e9"}\n'.encode() + b'{"t": "\xc3')
    assert _error(read_text, path).startswith(f"{path}:2: byte 0xc3 at column 8 ")


def test_bom_empty_folder_and_missing(tmp_path):
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf{}")
    assert "byte-order mark" in _error(load_json, bom) and _error(load_json, bom).startswith(f"{bom}:1:")
    empty = tmp_path / "empty.json"
    empty.write_bytes(b" \n\n")
    assert _error(load_json, empty) == f"{empty}: the file is empty."
    assert read_text(empty, allow_empty=True) == " \n\n"
    assert _error(load_json, tmp_path) == f"{tmp_path} is a folder, not a file; name a file."
    assert _error(load_json, tmp_path / "nope.json") == f"{tmp_path / 'nope.json'}: no such file; check the path."


def test_json_errors_give_line_and_column_and_repeated_keys(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{\n  "a": 1,\n  "b": \n}\n')
    assert _error(load_json, path) == f"{path}:4: not valid JSON (Expecting value at column 1)."
    path.write_text('{"a": {"k": 1, "k": 2}}')
    assert _error(load_json, path) == f"{path}: the key 'k' occurs twice in one JSON object; keys must be unique."
    assert parse_json('{"a": [1, 2]}', "w") == {"a": [1, 2]}
    assert _error(parse_json, '{"a": 1', "here:7") == "here:7: not valid JSON (Expecting ',' delimiter at column 8)."


def test_jsonl_lines_are_numbered_and_blank_lines_skipped(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n\n[2]\n"x"\n')
    assert list(iter_jsonl(path)) == [(1, {"a": 1}), (3, [2]), (4, "x")]
    path.write_text('{"a": 1}\n{"a": \n')
    assert _error(lambda p: list(iter_jsonl(p)), path) == f"{path}:2: not valid JSON (Expecting value at column 7)."


def test_toml(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('out = "r"\nseeds = [0, 1]\n')
    assert load_toml(path) == {"out": "r", "seeds": [0, 1]}
    path.write_text('out = "r\n')
    assert _error(load_toml, path).startswith(f"{path}: not valid TOML (") and "line 1" in _error(load_toml, path)
    path.write_bytes(b'out = "r"\nname = "\xe9"\n')
    assert _error(load_toml, path).startswith(f"{path}:2: byte 0xe9 at column 9 ")
