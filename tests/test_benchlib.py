"""bench/benchlib.replace_section: a bench run rewrites only the generated part of its own
section of docs/benchmarks.md; hand-written text below the end line survives it."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def benchlib(load_bench_module):
    return load_bench_module("benchlib")


def test_hand_text_after_the_end_line_survives_a_rerun(benchlib, tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Summary\n\nhand summary\n\n## Other\n\nother text\n")
    benchlib.replace_section("## Neo4j load", "## Neo4j load\n\nrun 1 table", doc)
    first = doc.read_text()
    assert first.index("## Summary") < first.index("## Other") < first.index("run 1 table")

    doc.write_text(first.replace(benchlib.GENERATED_END, benchlib.GENERATED_END + "\n\nhand finding"))
    benchlib.replace_section("## Neo4j load", "## Neo4j load\n\nrun 2 table", doc)
    second = doc.read_text()
    assert "run 1 table" not in second
    assert second.index("run 2 table") < second.index(benchlib.GENERATED_END) < second.index("hand finding")
    assert second.count(benchlib.GENERATED_END) == 1
    assert "hand summary" in second and "other text" in second


def test_a_section_in_the_middle_keeps_its_neighbours(benchlib, tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Generator\n\nold figures\n\n## Neo4j load\n\nload figures\n")
    benchlib.replace_section("## Generator", "## Generator\n\nnew figures", doc)
    text = doc.read_text()
    assert "old figures" not in text
    assert text.index("new figures") < text.index(benchlib.GENERATED_END) < text.index("## Neo4j load")
    assert text.endswith("load figures\n")
