"""solid_bench.specs: the one corpus-spec parser (typed parts, syntax errors, limits, checks before loading)."""

from __future__ import annotations

import time

import pytest

from solid_bench.corpora import resolve
from solid_bench.errors import UserError
from solid_bench.specs import MAX_SPEC_CHARS, Part, Spec, parse_spec


def test_parts_sizes_and_strategies():
    spec = parse_spec(" human + solid@500:balanced+runs/x@20 ")
    assert spec == Spec(" human + solid@500:balanced+runs/x@20 ",
                        (Part("human"), Part("solid", 500, "balanced"), Part("runs/x", 20, "random")))
    assert [p.source for p in spec.parts] == ["msdialog", "solid", "runs/x"]


@pytest.mark.parametrize("text,message", [
    ("human+", "Corpus spec 'human+' has an empty part (a '+' with nothing beside it); name a corpus on each side of every '+'."),
    ("+human", "Corpus spec '+human' has an empty part (a '+' with nothing beside it); name a corpus on each side of every '+'."),
    ("", "Empty corpus spec; name a corpus such as 'human' or 'solid', or a dialog file."),
    ("@5", "Corpus spec '@5': '@5' names no corpus before '@'; write e.g. solid@500."),
    ("solid@0", "Corpus spec 'solid@0': the size after '@' in 'solid@0' must be a positive whole number, e.g. solid@500."),
    ("solid@1e3", "Corpus spec 'solid@1e3': the size after '@' in 'solid@1e3' must be a positive whole number, e.g. solid@500."),
    ("solid@5:", "Corpus spec 'solid@5:': 'solid@5:' names no sampling strategy after ':'; write e.g. solid@500:balanced, or drop the ':'."),
    ("human+msdialog", "Corpus spec 'human+msdialog' names 'msdialog' twice; a mixture names each corpus once."),
])
def test_syntax_errors(text, message):
    with pytest.raises(UserError) as e:
        parse_spec(text)
    assert str(e.value) == message


def test_absurd_specs_fail_in_milliseconds():
    t0 = time.perf_counter()
    for text in ("x" * 10_000, "human+" * 1_700, "+".join(["human"] * 1_700), "y" * 300):
        with pytest.raises(UserError) as e:
            resolve(text)
        assert len(str(e.value)) < 250
    assert time.perf_counter() - t0 < 0.5
    with pytest.raises(UserError) as e:
        parse_spec("y" * 300)
    assert "(300 bytes; at most 255 per name)" in str(e.value)
    assert len(parse_spec("a" * 200 + "/" + "b" * 200).parts) == 1
    with pytest.raises(UserError, match=f"more than the {MAX_SPEC_CHARS:,}"):
        parse_spec("z" * (MAX_SPEC_CHARS + 1))


def test_problems_are_found_before_anything_loads(tiny_data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = parse_spec("human+humna+nothere.jsonl+mantis@2:nope")
    problems = spec.problems()
    assert len(problems) == 3
    assert problems[0].startswith("corpus spec 'human+humna+nothere.jsonl+mantis@2:nope': unknown corpus 'humna'. Did you mean: ")
    assert problems[1].endswith("corpus 'nothere.jsonl': no such file or folder; check the path.")
    assert "unknown sampling strategy 'nope'" in problems[2]
    assert [p.is_human_source() for p in parse_spec("human+solid@3+nothere.jsonl").parts] == [True, False, False]
    # a dialogs.jsonl in the working folder is never read for an empty part (it was, as "the current folder")
    (tmp_path / "dialogs.jsonl").write_text("{}\n")
    with pytest.raises(UserError, match="empty part"):
        resolve("human+")
