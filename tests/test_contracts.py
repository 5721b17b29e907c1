"""The registration checks of the backend, corpus-source and file-format contracts, and the fake backend's rule sets."""

from __future__ import annotations

import pytest

from solid_bench.errors import UserError
from solid_bench.formats import FORMATS, check_format
from solid_bench.llm import BACKENDS, BaseBackend, Request
from solid_bench.llm.backends.fake import FAKE_RULES, FakeBackend
from solid_bench.llm.base import check_backend
from solid_bench.registry import Registry
from solid_bench.sources import BaseSource, check_source


def test_every_registered_plugin_follows_its_contract():
    # registration already checked them; this pins which plugins there are
    assert BACKENDS.names() == ["fake", "llama-cpp", "llama-server", "openai", "transformers", "vllm"]
    assert FORMATS.names() == ["mantis-json", "msdialog-json", "msdialog-tsv", "solid-bench-jsonl", "solid-release-jsonl"]


def test_a_backend_without_close_is_refused_with_the_base_class_named():
    registry = Registry("LLM backend", check=check_backend)
    bare = type("Bare", (), {"complete": lambda self, requests: []})
    with pytest.raises(TypeError, match=r"Backend 'bare' \(.*Bare\) does not follow the Backend contract: it lacks close: "
                                        r"subclass solid_bench.llm.BaseBackend for the defaults\."):
        registry.add("bare", bare)
    registry.add("ok", type("Ok", (BaseBackend,), {"complete": lambda self, requests: []}))
    assert "ok" in registry


def test_a_source_must_say_whether_it_is_synthetic():
    registry = Registry("corpus", check=check_source)
    with pytest.raises(TypeError, match=r"it lacks synthetic \(required\)"):
        registry.add("x", type("X", (BaseSource,), {"description": "d", "load": lambda self, split, labels: None}))
    ok = type("Ok", (BaseSource,), {"description": "d", "synthetic": True, "load": lambda self, split, labels: None})
    registry.add("ok", ok)
    assert ok().available() is None and ok.splits == ("train", "valid", "test")


def test_a_format_needs_sniff_and_read_and_a_one_line_description():
    registry = Registry("file format", check=check_format)
    with pytest.raises(TypeError, match=r"it lacks sniff, read \(required\); its description must be one non-empty line"):
        registry.add("x", type("X", (), {"description": "two\nlines"}))


def test_the_fake_backend_finds_rule_sets_by_name_and_says_how_to_get_a_missing_one():
    assert "solid" in FAKE_RULES.names()  # declared by solid-bench's own pyproject.toml (entry points)
    solid = FakeBackend()
    entity_types = Request.chat(("system", "You list kinds of entities.\nPeople ask"), ("user", "List 10 types"))
    assert solid.complete([entity_types])[0].text.startswith("1. Software Product\n2. Programming Language")
    plain = FakeBackend(rules=())
    assert not plain.complete([entity_types])[0].text.startswith("1.")  # no rule: vocabulary words
    with pytest.raises(UserError, match="The fake backend has no rule set 'nope'.*entry-point group solid_bench.fake_rules"):
        FakeBackend(rules="nope")
