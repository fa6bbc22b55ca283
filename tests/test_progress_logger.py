"""The console logger prints progress (steps done, failed checks, warnings), not every event."""

from __future__ import annotations

import re

import pytest
from dagster import AssetCheckResult, Definitions, asset, asset_check, define_asset_job

from pipelines.assets.progress_logger import progress_console_logger


@asset
def first_frame(context) -> int:
    context.log.info("first frame: 3 rows")
    context.log.debug("internal detail nobody needs on the console")
    return 3


@asset
def second_frame(context, first_frame: int) -> int:
    context.log.warning("second frame: 1 row quarantined")
    return first_frame + 1


@asset_check(asset=second_frame)
def second_frame_is_small(second_frame: int) -> AssetCheckResult:
    return AssetCheckResult(passed=second_frame < 2, metadata={"rows": second_frame})


@asset
def broken_frame(first_frame: int) -> int:
    raise ValueError("bad row 7 in accounts.csv")


def run(selection: list[str], log_level: str = "INFO") -> None:
    defs = Definitions(
        assets=[first_frame, second_frame, broken_frame], asset_checks=[second_frame_is_small],
        jobs=[define_asset_job("toy", selection=selection)], loggers={"console": progress_console_logger},
    )
    defs.resolve_job_def("toy").execute_in_process(
        raise_on_error=False, run_config={"loggers": {"console": {"config": {"log_level": log_level}}}})


def test_one_line_per_finished_step_plus_messages_warnings_and_failed_checks(capsys):
    run(["first_frame", "second_frame"])
    lines = capsys.readouterr().err.splitlines()
    text = "\n".join(lines)
    assert re.search(r"^\d\d:\d\d:\d\d first_frame - STEP_SUCCESS - ", text, re.M)
    assert "second_frame - STEP_SUCCESS" in text
    assert "first frame: 3 rows" in text and "second frame: 1 row quarantined" in text
    assert "ASSET_CHECK_EVALUATION" in text and "second_frame_is_small" in text  # it failed
    assert "internal detail" not in text
    assert "LOADED_INPUT" not in text and "HANDLED_OUTPUT" not in text and "STEP_START" not in text
    assert len(lines) <= 8, text  # run start/end, two steps, two messages, one failed check


def test_failed_step_prints_the_error(capsys):
    run(["first_frame", "broken_frame"])
    text = capsys.readouterr().err
    assert "broken_frame - STEP_FAILURE" in text and "bad row 7 in accounts.csv" in text


@pytest.mark.parametrize("level, shown", [("DEBUG", True), ("WARNING", False)])
def test_log_level_sets_which_asset_messages_print(capsys, level, shown):
    run(["first_frame"], log_level=level)
    text = capsys.readouterr().err
    assert ("first frame: 3 rows" in text) is shown
    assert ("internal detail" in text) is shown
    assert "first_frame - STEP_SUCCESS" in text
