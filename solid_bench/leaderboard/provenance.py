"""The provenance footer of every table and page: versions, commits, hardware, and how to cite."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

SOLID_BIBTEX = """@article{askari2024solid,
  title={Self-seeding and Multi-intent Self-instructing LLMs for Generating Intent-aware Information-Seeking dialogs},
  author={Askari, Arian and Petcu, Roxana and Meng, Chuan and Aliannejadi, Mohammad and Abolghasemi, Amin and Kanoulas, Evangelos and Verberne, Suzan},
  journal={arXiv preprint arXiv:2402.11633},
  year={2024}
}"""


def solid_bench_bibtex(version: str) -> str:
    """BibTeX for the solid-bench software at ``version``."""
    return (
        "@software{solid_bench,\n"
        "  title={solid-bench: a benchmark harness for intent prediction in information-seeking dialogs},\n"
        "  author={{solid-bench developers}},\n"
        f"  version={{{version}}},\n"
        "  year={2026}\n"
        "}"
    )


def _distinct(values: Sequence[Any]) -> list[str]:
    return sorted({str(v) for v in values if v not in (None, "")})


def provenance(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What produced these results, gathered from the results only (no clock, no local machine)."""
    envs = [r.get("environment") or {} for r in results]
    versions = _distinct([r.get("solid_bench_version") or e.get("solid_bench") for r, e in zip(results, envs)])
    commits = _distinct([e.get("git_commit") for e in envs])
    hardware = _distinct(
        [f"{e.get('processor') or 'unknown CPU'}, {e.get('cpu_count') or '?'} CPUs, device {e.get('device') or 'cpu'}" for e in envs]
    )
    created = _distinct([r.get("created") for r in results])
    stamp = f"results created up to {created[-1]}" if created else "results at git commit " + (", ".join(c[:12] for c in commits) or "unknown")
    from .. import __version__

    return {
        "schema_versions": _distinct([r.get("schema_version") for r in results]),
        "solid_bench_versions": versions,
        "git_commits": commits,
        "python": _distinct([e.get("python") for e in envs]),
        "hardware": hardware,
        "n_results": len(results),
        "generated": stamp,
        "bibtex": [solid_bench_bibtex(versions[-1] if versions else __version__), SOLID_BIBTEX],
    }


def footer_lines(prov: Mapping[str, Any]) -> list[str]:
    """Plain-text footer lines (writers add their own markup)."""
    return [
        f"Generated from {prov['n_results']} result files; {prov['generated']}.",
        f"Result schema version {', '.join(prov['schema_versions']) or '?'}; solid-bench {', '.join(prov['solid_bench_versions']) or '?'}; "
        f"git commit {', '.join(prov['git_commits']) or 'unknown'}.",
        f"Hardware: {'; '.join(prov['hardware']) or 'unknown'}. Python {', '.join(prov['python']) or '?'}.",
        "Please cite solid-bench and the SOLID paper (BibTeX below).",
    ]
