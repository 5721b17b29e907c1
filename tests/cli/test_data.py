"""`solid-bench data ...` through solid_bench.cli.main: output numbers, and exit 2 with one clean line on errors."""

from __future__ import annotations

import json
import re
import socket

from dialog_files import needs_real_data

from solid_bench.cli import main
from solid_bench.schema import Dialog, Utterance, dialog_to_json


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_clean_error(code, err):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_list_shows_sources_presence_and_formats(tiny_data, capsys):
    code, out, _ = _run(capsys, "data", "list")
    assert code == 0
    assert re.search(r"^\s+msdialog\s+yes\s+MSDialog-IntentPred", out, re.M)
    assert re.search(r"^\s+mantis\s+no\s+MANtIS", out, re.M)
    assert "human = msdialog" in out
    for fmt in ("msdialog-tsv", "msdialog-json", "mantis-json", "solid-bench-jsonl", "solid-release-jsonl"):
        assert re.search(rf"^\s+{fmt}\s", out, re.M)


def test_stats_named_source_per_split(tiny_data, capsys):
    code, out, _ = _run(capsys, "data", "stats", "human")
    assert code == 0
    lines = out.splitlines()
    assert lines[1:5] == ["train 3 / 12", "valid 3 / 12", "test  3 / 12", "total 9 / 36"]
    rows = {line.split()[0]: line.split()[1:] for line in lines if re.match(r"^[A-Z]{1,2}\s+\d", line)}
    # tiny split: OQ x3, PA x4 (PA, IR_PA, PA, PA), O never
    assert rows["PA"] == ["4", "4", "4", "12"] and rows["OQ"] == ["3", "3", "3", "9"] and rows["O"] == ["0", "0", "0", "0"]
    assert list(rows)[0] == "PA" and len(rows) == 12
    code, out, _ = _run(capsys, "data", "stats", "human", "--split", "valid")
    assert code == 0 and out.splitlines()[1:3] == ["valid 3 / 12", ""]


def test_stats_and_validate_a_file(tmp_path, capsys):
    path = tmp_path / "syn.jsonl"
    ds = [Dialog(f"d{i}", "solid", (Utterance("user", "q", ("OQ",)), Utterance("agent", "a", ("FD", "PA")))) for i in range(3)]
    path.write_text("".join(dialog_to_json(d) + "\n" for d in ds), encoding="utf-8")
    code, out, _ = _run(capsys, "data", "stats", str(path))
    assert code == 0 and "all   3 / 6" in out
    assert re.search(r"^PA\s+3$", out, re.M) and re.search(r"^FD\s+3$", out, re.M)
    code, out, _ = _run(capsys, "data", "validate", str(path))
    assert code == 0 and out.strip() == f"{path}: valid solid-bench-jsonl, 3 dialogs, 6 utterances."


def test_export_cli_writes_jsonl_and_hf(tiny_data, tmp_path, capsys):
    code, out, _ = _run(capsys, "data", "export", "human", "--format", "jsonl", "--out", str(tmp_path / "h.jsonl"), "--split", "test")
    assert code == 0 and "Wrote 3 dialogs (12 utterances)" in out
    assert len((tmp_path / "h.jsonl").read_text().splitlines()) == 3
    code, out, _ = _run(capsys, "data", "export", "human@2", "--format", "hf", "--out", str(tmp_path / "hf"))
    assert code == 0 and "Wrote 2 dialogs" in out and (tmp_path / "hf" / "dataset_info.json").is_file()
    code, _, err = _run(capsys, "data", "export", "human", "--format", "csv", "--out", str(tmp_path / "x"))
    assert "use one of jsonl, hf" in _one_clean_error(code, err)


# ---- errors: exit 2, one line on stderr, no traceback -------------------------------------------


def test_missing_data_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SOLID_BENCH_DATA", str(tmp_path / "nowhere"))
    code, _, err = _run(capsys, "data", "stats", "human")
    line = _one_clean_error(code, err)
    assert str(tmp_path / "nowhere") in line and "SOLID_BENCH_DATA" in line


def test_missing_mantis_files(tiny_data, capsys):
    code, _, err = _run(capsys, "data", "stats", "mantis")
    line = _one_clean_error(code, err)
    assert "merged_train_intents.json is missing" in line and str(tiny_data / "mantis") in line


def test_unknown_corpus_suggests(tiny_data, capsys):
    code, _, err = _run(capsys, "data", "stats", "msdialg")
    assert "Did you mean: msdialog" in _one_clean_error(code, err)


def test_malformed_line_shows_file_line(tmp_path, capsys):
    path = tmp_path / "bad.tsv"
    path.write_text("OQ\tq __eou__\tUser\nPA\ta __eou__\tAgent\n\nOQ\tno third column\n", encoding="utf-8")
    code, _, err = _run(capsys, "data", "validate", str(path))
    assert f"{path}:4:" in _one_clean_error(code, err)


def test_unknown_label_shows_file_line(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    good = {"id": "a", "utterances": [{"role": "user", "text": "q", "intents": ["OQ"]}]}
    bad = {"id": "b", "utterances": [{"role": "user", "text": "q", "intents": ["OQ", "XQ"]}]}
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    code, _, err = _run(capsys, "data", "validate", str(path))
    line = _one_clean_error(code, err)
    assert f"{path}:2 utterance 0: unknown label 'XQ'" in line


def test_empty_file(tmp_path, capsys):
    path = tmp_path / "empty.jsonl"
    path.write_text("", encoding="utf-8")
    code, _, err = _run(capsys, "data", "validate", str(path))
    assert "empty" in _one_clean_error(code, err)
    code, _, err = _run(capsys, "data", "validate", str(tmp_path / "nope.jsonl"))
    assert "no such file" in _one_clean_error(code, err)


def test_download_without_network(tmp_path, monkeypatch, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("SOLID_BENCH_MSDIALOG_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("SOLID_BENCH_DATA", str(tmp_path / "data"))
    code, _, err = _run(capsys, "data", "download", "msdialog")
    line = _one_clean_error(code, err)
    assert "no network" in line and str(tmp_path / "data" / "msdialog-intentpred") in line
    code, _, err = _run(capsys, "data", "download", "mantis")
    assert "only 'msdialog' can be downloaded" in _one_clean_error(code, err)


# ---- the real data (skipped unless SOLID_BENCH_DATA holds it) -------------------------------------

TOTALS = {"PA": 3782, "OQ": 2258, "FD": 2219, "IR": 967, "PF": 937, "FQ": 637, "NF": 552, "CQ": 534, "RQ": 456,
          "GG": 346, "JK": 92, "O": 17}


@needs_real_data()
def test_real_msdialog_counts(capsys):
    code, out, _ = _run(capsys, "data", "stats", "human")
    assert code == 0
    lines = out.splitlines()
    assert lines[1:5] == ["train 1,760 / 8,064", "valid 220 / 986", "test  219 / 970", "total 2,199 / 10,020"]
    rows = {line.split()[0]: [int(x.replace(",", "")) for x in line.split()[1:]] for line in lines if re.match(r"^[A-Z]{1,2}\s+[\d,]", line)}
    assert {k: v[3] for k, v in rows.items()} == TOTALS
    assert all(v[0] + v[1] + v[2] == v[3] for v in rows.values())
    assert list(rows) == list(TOTALS)  # sorted by total, most frequent first
