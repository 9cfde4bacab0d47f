"""The cycle, as named steps over one context: poll, run, analyse, compare, raise alerts, deliver, rerun.

``run_cycle(ctx)`` is ``serve --once`` and the demo; the service's scheduler jobs, ``check`` and
``webhook`` call the same step functions (see ``monitor/pipeline/_steps.py`` for the table of what
each step reads and writes). Lower-level pieces (one poll, one run, one comparison) are exported for
the CLI commands that do one of them by hand.

The names are imported on first use (PEP 562): ``check`` needs the poll step, ``compare`` on files
needs the file comparison, and neither should pay for the database models, Hub client and analysis
stack the other steps import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor._lazy import lazy_exports

if TYPE_CHECKING:
    from monitor.pipeline._analyse import (
        AnalyseSummary,
        analyse_pending,
        current_classifier,
        register_classifier,
        reviewer_examples,
    )
    from monitor.pipeline._background import BackgroundPoller
    from monitor.pipeline._compare import (
        ComparisonOutcome,
        compare_new_revisions,
        compare_revisions,
        compare_with_baseline,
    )
    from monitor.pipeline._compare_files import compare_files
    from monitor.pipeline._context import CycleContext, CycleObserver, CycleReport, SourceFactory
    from monitor.pipeline._endpoint import EndpointSource, endpoint_spec
    from monitor.pipeline._pending import pending_runs
    from monitor.pipeline._poll import ChangeRecord, PollResult, poll_model, poll_watched
    from monitor.pipeline._resolve import ResolvedModel, resolve_model
    from monitor.pipeline._run import (
        RunOutcome,
        RunPlan,
        engine_spec,
        ensure_suite,
        ensure_watched_model,
        plan_run,
        run_suite,
    )
    from monitor.pipeline._sources import UnusableSource
    from monitor.pipeline._steps import (
        Step,
        alert_step,
        analyse_step,
        compare_step,
        deliver_step,
        poll_step,
        process_pending,
        rerun_step,
        run_cycle,
        run_step,
    )
    from monitor.pipeline._watched import model_config_for, sync_watched_models

# Each public name and the module that defines it.
_EXPORTS = {
    "AnalyseSummary": "monitor.pipeline._analyse",
    "BackgroundPoller": "monitor.pipeline._background",
    "ChangeRecord": "monitor.pipeline._poll",
    "ComparisonOutcome": "monitor.pipeline._compare",
    "CycleContext": "monitor.pipeline._context",
    "CycleObserver": "monitor.pipeline._context",
    "CycleReport": "monitor.pipeline._context",
    "EndpointSource": "monitor.pipeline._endpoint",
    "PollResult": "monitor.pipeline._poll",
    "ResolvedModel": "monitor.pipeline._resolve",
    "RunOutcome": "monitor.pipeline._run",
    "RunPlan": "monitor.pipeline._run",
    "SourceFactory": "monitor.pipeline._context",
    "Step": "monitor.pipeline._steps",
    "UnusableSource": "monitor.pipeline._sources",
    "alert_step": "monitor.pipeline._steps",
    "analyse_pending": "monitor.pipeline._analyse",
    "analyse_step": "monitor.pipeline._steps",
    "compare_files": "monitor.pipeline._compare_files",
    "compare_new_revisions": "monitor.pipeline._compare",
    "compare_revisions": "monitor.pipeline._compare",
    "compare_step": "monitor.pipeline._steps",
    "compare_with_baseline": "monitor.pipeline._compare",
    "current_classifier": "monitor.pipeline._analyse",
    "deliver_step": "monitor.pipeline._steps",
    "endpoint_spec": "monitor.pipeline._endpoint",
    "engine_spec": "monitor.pipeline._run",
    "ensure_suite": "monitor.pipeline._run",
    "ensure_watched_model": "monitor.pipeline._run",
    "model_config_for": "monitor.pipeline._watched",
    "pending_runs": "monitor.pipeline._pending",
    "plan_run": "monitor.pipeline._run",
    "poll_model": "monitor.pipeline._poll",
    "poll_step": "monitor.pipeline._steps",
    "poll_watched": "monitor.pipeline._poll",
    "process_pending": "monitor.pipeline._steps",
    "register_classifier": "monitor.pipeline._analyse",
    "rerun_step": "monitor.pipeline._steps",
    "resolve_model": "monitor.pipeline._resolve",
    "reviewer_examples": "monitor.pipeline._analyse",
    "run_cycle": "monitor.pipeline._steps",
    "run_step": "monitor.pipeline._steps",
    "run_suite": "monitor.pipeline._run",
    "sync_watched_models": "monitor.pipeline._watched",
}

__all__ = [
    "AnalyseSummary",
    "BackgroundPoller",
    "ChangeRecord",
    "ComparisonOutcome",
    "CycleContext",
    "CycleObserver",
    "CycleReport",
    "EndpointSource",
    "PollResult",
    "ResolvedModel",
    "RunOutcome",
    "RunPlan",
    "SourceFactory",
    "Step",
    "UnusableSource",
    "alert_step",
    "analyse_pending",
    "analyse_step",
    "compare_files",
    "compare_new_revisions",
    "compare_revisions",
    "compare_step",
    "compare_with_baseline",
    "current_classifier",
    "deliver_step",
    "endpoint_spec",
    "engine_spec",
    "ensure_suite",
    "ensure_watched_model",
    "model_config_for",
    "pending_runs",
    "plan_run",
    "poll_model",
    "poll_step",
    "poll_watched",
    "process_pending",
    "register_classifier",
    "rerun_step",
    "resolve_model",
    "reviewer_examples",
    "run_cycle",
    "run_step",
    "run_suite",
    "sync_watched_models",
]


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
