"""MSDialog-IntentPred TSV reader: counts, first/last items, text cleaning, and file:line errors."""

from __future__ import annotations

import pytest

from solid_bench.errors import UserError
from solid_bench.formats import detect_format, read_dialogs
from solid_bench.schema import MSDIALOG

TSV = (
    "OQ\thow do i reset my password \\? __eou__\tUser\n"
    "IR_PA\twhich version \\? try safe mode __eou__\tAgent\n"
    "FD_NF\tversion 2016 , did not help __eou__\tUser\n"
    "\n"
    "OQ\tskype does not ring __eou__\tUser\n"
    "CQ\tis it muted \\? __eou__\tAgent\n"
    "\n"
    "\n"
    "OQ\texcel crashes __eou__\tUser\n"
    "PA\trepair office __eou__\tAgent\n"
    "GG\tthank you __eou__\tUser\n"
)


def test_reads_counts_first_and_last(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_text(TSV, encoding="utf-8")
    assert detect_format(path) == "msdialog-tsv"
    dialogs = read_dialogs(path, MSDIALOG, source="msdialog")
    assert len(dialogs) == 3
    assert [len(d.utterances) for d in dialogs] == [3, 2, 3]
    first, last = dialogs[0].utterances[0], dialogs[-1].utterances[-1]
    assert (first.role, first.text, first.intents) == ("user", "how do i reset my password ?", ("OQ",))
    assert (last.role, last.text, last.intents) == ("user", "thank you", ("GG",))
    assert dialogs[0].utterances[1].intents == ("IR", "PA")
    assert dialogs[0].id == "msdialog-train-00000" and dialogs[-1].id == "msdialog-train-00002"


@pytest.mark.parametrize(
    "bad, line, needle",
    [
        ("OQ\tonly two columns\n", 5, "3 tab-separated columns"),
        ("XX\tunknown label __eou__\tUser\n", 5, "unknown label 'XX'"),
        ("OQ\tsome text __eou__\tBot\n", 5, "User or Agent"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path, bad, line, needle):
    path = tmp_path / "bad.tsv"
    path.write_text("OQ\tq __eou__\tUser\nPA\ta __eou__\tAgent\n\nOQ\tq2 __eou__\tUser\n" + bad, encoding="utf-8")
    with pytest.raises(UserError) as e:
        read_dialogs(path, MSDIALOG, source="x")
    assert f"{path}:{line}:" in str(e.value) and needle in str(e.value)


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.tsv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(UserError, match="empty"):
        read_dialogs(path, MSDIALOG, source="x")
