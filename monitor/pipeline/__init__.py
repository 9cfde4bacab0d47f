"""The cycle, as named steps over one context: poll, run, analyse, compare, raise alerts, deliver, rerun.

``run_cycle(ctx)`` is ``serve --once`` and the demo; the service's scheduler jobs, ``check`` and
``webhook`` call the same step functions (see ``monitor/pipeline/_steps.py`` for the table of what
each step reads and writes). Lower-level pieces (one poll, one run, one comparison) are exported for
the CLI commands that do one of them by hand.
"""

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
from monitor.pipeline._pending import (
    model_config_for,
    pending_runs,
    sync_watched_models,
)
from monitor.pipeline._poll import ChangeRecord, PollResult, poll_model, poll_watched
from monitor.pipeline._run import (
    ResolvedModel,
    RunOutcome,
    RunPlan,
    engine_spec,
    ensure_suite,
    ensure_watched_model,
    plan_run,
    resolve_model,
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
