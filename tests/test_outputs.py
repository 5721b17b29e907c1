"""solid_bench.outputs: atomic files and folders, and output locations refused before any work."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from solid_bench.errors import UserError
from solid_bench.outputs import (
    atomic_write,
    check_output_file,
    check_output_folder,
    move_into,
    replace_folder,
    staging_folder,
    write_json_atomic,
    write_text_atomic,
)


def test_atomic_write_replaces_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "sub" / "a.json"
    write_json_atomic(path, {"b": 1, "a": "é"})
    assert path.read_text(encoding="utf-8") == '{\n  "b": 1,\n  "a": "é"\n}\n'
    write_json_atomic(path, {"b": 1, "a": 2}, indent=1, sort_keys=True)
    assert path.read_text() == '{\n "a": 2,\n "b": 1\n}\n'
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = write_text_atomic(tmp_path / "a.txt", "old\n")
    with pytest.raises(RuntimeError), atomic_write(path) as fh:
        fh.write("half")
        raise RuntimeError("killed mid-write")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_replace_folder_swaps_in_a_staged_folder(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.bin").write_text("old")
    with staging_folder(target) as tmp:
        (tmp / "new").mkdir()
        (tmp / "new" / "weights.bin").write_text("new")
        replace_folder(tmp / "new", target)
    assert [p.name for p in target.iterdir()] == ["weights.bin"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_files_get_the_usual_mode_not_mkstemps_private_one(tmp_path):
    old = os.umask(0o022)
    try:
        import importlib

        from solid_bench import outputs

        importlib.reload(outputs)  # FILE_MODE is read once, at import
        assert outputs.FILE_MODE == 0o644
        path = outputs.write_text_atomic(tmp_path / "r.json", "{}\n")
        assert path.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)
        importlib.reload(outputs)


def test_move_into_places_staged_files_and_keeps_the_others(tmp_path):
    out = tmp_path / "board"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    (out / "table.md").write_text("old")
    with staging_folder(out) as tmp:
        (tmp / "plots").mkdir()
        files = [write_text_atomic(tmp / "table.md", "new"), write_text_atomic(tmp / "plots" / "a.svg", "<svg/>")]
        assert move_into(tmp, files, out) == [out / "table.md", out / "plots" / "a.svg"]
    assert (out / "table.md").read_text() == "new" and (out / "keep.txt").read_text() == "mine"
    assert (out / "plots" / "a.svg").is_file() and sorted(p.name for p in tmp_path.iterdir()) == ["board"]


def _read_only(folder):
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return lambda: folder.chmod(0o755)
    subprocess.run(["chattr", "+i", str(folder)], check=True)
    return lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_output_checks(tmp_path):
    (tmp_path / "file").write_text("x")
    assert check_output_folder(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # checking makes nothing
    assert check_output_file(tmp_path / "file") == tmp_path / "file"  # an existing file is replaced
    cases = {
        (check_output_folder, tmp_path / "file"): f"--out {tmp_path / 'file'} is a file; name a folder (it is made if missing).",
        (check_output_folder, tmp_path / "file" / "sub"):
            f"--out {tmp_path / 'file' / 'sub'}: {tmp_path / 'file'} is a file, so nothing can be written under it; choose another path.",
        (check_output_file, tmp_path): f"--out {tmp_path} is a folder; name a file in it, e.g. {tmp_path / 'out.jsonl'}.",
        (check_output_folder, tmp_path / ("n" * 300)): f"--out {tmp_path / ('n' * 300)}: File name too long; choose another path.",
    }
    for (check, path), message in cases.items():
        with pytest.raises(UserError) as e:
            check(path)
        assert str(e.value) == message
    ro = tmp_path / "ro"
    ro.mkdir()
    undo = _read_only(ro)
    try:
        for check, path in ((check_output_folder, ro), (check_output_folder, ro / "a" / "b"), (check_output_file, ro / "x.jsonl")):
            with pytest.raises(UserError) as e:
                check(path, "--results")
            assert str(e.value).startswith(f"--results {path}: cannot write in {ro} (")
        assert list(ro.iterdir()) == []
    finally:
        undo()
    assert json.loads(json.dumps(sorted(p.name for p in tmp_path.iterdir()))) == ["file", "ro"]
