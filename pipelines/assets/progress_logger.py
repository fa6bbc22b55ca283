"""A console logger that prints a run's progress, not its event stream.

Dagster's default console logger prints every event at DEBUG: ~700 lines for one daily run,
in which the few that matter (a step done and how long it took, a failed check, a warning)
drown. This one prints one line per finished or failed step, every failed asset check, the
run's start and end, and whatever the assets themselves log at INFO or above. The full event
log is still in the Dagster instance (the UI shows it); only the console is quieter.

Lines keep Dagster's ``<step> - <EVENT> - <message>`` shape, so a log can still be searched
for ``neo4j_graph - STEP_SUCCESS``.
"""

from __future__ import annotations

import logging
import sys
import time

from dagster import DagsterEventType, Field, InitLoggerContext, logger

# Run config that selects this logger: Dagster uses a job's loggers only when the run config
# names them (otherwise its DEBUG console logger).
PROGRESS_LOGGING = {"console": {"config": {"log_level": "INFO"}}}

# Events worth a console line; everything else (inputs loaded, outputs stored, engine chatter)
# stays in the event log. Taken from the enum: run events still carry their old PIPELINE_* values.
PROGRESS_EVENTS = frozenset(event.value for event in (
    DagsterEventType.RUN_START, DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE,
    DagsterEventType.RUN_CANCELED, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE,
    DagsterEventType.STEP_UP_FOR_RETRY,
))


def _event(record: logging.LogRecord):
    meta = getattr(record, "dagster_meta", None) or {}
    return meta.get("dagster_event"), meta


def _failed_check(event) -> bool:
    data = getattr(event, "event_specific_data", None)
    return event.event_type_value == DagsterEventType.ASSET_CHECK_EVALUATION.value and getattr(data, "passed", True) is False


class ProgressFilter(logging.Filter):
    """Keeps progress events, failed checks, warnings and the assets' own messages at or
    above ``threshold``."""

    def __init__(self, threshold: int = logging.INFO) -> None:
        super().__init__()
        self.threshold = threshold

    def filter(self, record: logging.LogRecord) -> bool:
        event, _ = _event(record)
        if event is None:
            return record.levelno >= self.threshold
        return event.event_type_value in PROGRESS_EVENTS or _failed_check(event) or record.levelno >= logging.WARNING


class ProgressFormatter(logging.Formatter):
    """``HH:MM:SS <step> - <EVENT> - <message>``; failures keep Dagster's error text."""

    def format(self, record: logging.LogRecord) -> str:
        event, meta = _event(record)
        clock = time.strftime("%H:%M:%S", time.localtime(record.created))
        parts = [meta.get("step_key") or meta.get("job_name") or "sybilgraph"]
        if event is not None:
            parts.append(event.event_type_value)
        parts.append(meta.get("orig_message") or record.getMessage())
        line = f"{clock} " + " - ".join(str(part) for part in parts)
        error = getattr(getattr(event, "event_specific_data", None), "error", None)
        if error is not None:
            line += f"\n{error.to_string()}"
        return line


@logger(
    {"log_level": Field(str, is_required=False, default_value="INFO",
                        description="Assets' messages below this level are not printed.")},
    description="Compact console progress: one line per finished step, failed checks, warnings.",
)
def progress_console_logger(init_context: InitLoggerContext) -> logging.Logger:
    # DEBUG on the logger itself: Dagster logs step events at DEBUG; the filter picks them.
    progress = logging.Logger("sybilgraph", level=logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)  # where Dagster's own console logger writes
    handler.addFilter(ProgressFilter(logging.getLevelName(init_context.logger_config["log_level"].upper())))
    handler.setFormatter(ProgressFormatter())
    progress.addHandler(handler)
    return progress
