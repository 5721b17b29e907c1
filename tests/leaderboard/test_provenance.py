"""Provenance footer facts come from the results only; the citations agree with CITATION.cff."""

from __future__ import annotations

import re
from pathlib import Path

from leaderboard_fixtures import make_result, strong, weak

from solid_bench import __version__
from solid_bench.leaderboard.provenance import SOLID_BIBTEX, footer_lines, provenance

ROOT = Path(__file__).resolve().parents[2]


def test_provenance_collects_versions_commits_and_hardware():
    a, b = make_result("human", 0, weak(0)), make_result("solid@500", 0, strong(0))
    b["environment"] |= {"git_commit": "ffff", "device": "cuda (NVIDIA H100)", "cpu_count": 16}
    prov = provenance([a, b])
    assert prov["git_commits"] == ["0123456789abcdef0123", "ffff"]
    assert prov["hardware"] == ["x86_64, 16 CPUs, device cuda (NVIDIA H100)", "x86_64, 2 CPUs, device cpu"]
    assert prov["schema_versions"] == ["2"] and prov["n_results"] == 2
    assert prov["generated"] == "results at git commit 0123456789ab, ffff"  # no clock: reruns are byte-identical
    b["created"], a["created"] = "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z"
    assert provenance([a, b])["generated"] == "results created up to 2026-01-02T00:00:00Z"
    lines = footer_lines(prov)
    assert "git commit 0123456789abcdef0123, ffff" in lines[1] and "NVIDIA H100" in lines[2]


def test_citation_cff_matches_the_bibtex():
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert "cff-version: 1.2.0" in cff and "title: solid-bench" in cff and f"version: {__version__}" in cff
    title = re.search(r"title=\{(.+)\}", SOLID_BIBTEX).group(1)
    assert f'title: "{title}"' in cff
    for family in re.findall(r"(\w+), \w+", re.search(r"author=\{(.+)\}", SOLID_BIBTEX).group(1)):
        assert f"family-names: {family}" in cff
    assert "arXiv:2402.11633" in cff and "year={2024}" in SOLID_BIBTEX
