"""The cycle, as named steps over one context: poll, run, analyse, compare, raise alerts, deliver, rerun.

``run_cycle(ctx)`` is ``serve --once`` and the demo; the service's scheduler jobs, ``check`` and
``webhook`` call the same step functions (see ``monitor/pipeline/_steps.py`` for the table of what
each step reads and writes). Lower-level pieces (one poll, one run, one comparison) are exported for
the CLI commands that do one of them by hand.
"""

from monitor.pipeline._alerting import alert_callbacks, raise_pending_alerts
from monitor.pipeline._analyse import (
    ANALYSER_VERSION,
    AnalyseSummary,
    analyse_pending,
    current_classifier,
    register_classifier,
    reviewer_examples,
)
from monitor.pipeline._compare import (
    ComparisonOutcome,
    compare_new_revisions,
    compare_revisions,
    compare_with_baseline,
    find_baseline_sha,
    pinned_revision,
    response_set_for_runs,
)
from monitor.pipeline._compare_files import ExportRecord, compare_files, read_export, response_sets_from_export
from monitor.pipeline._context import CycleContext, CycleObserver, CycleReport, SourceFactory
from monitor.pipeline._endpoint import EndpointSource, endpoint_spec
from monitor.pipeline._pending import (
    FAILED_RUN_RETRY_AFTER,
    PendingRun,
    fresh_seed,
    model_config_for,
    pending_runs,
    run_pending,
    sync_watched_models,
)
from monitor.pipeline._poll import BackgroundPoller, ChangeRecord, PollResult, hub_cache_dir, poll_model, poll_watched
from monitor.pipeline._run import (
    ResolvedModel,
    RunOutcome,
    RunPlan,
    engine_spec,
    ensure_suite,
    ensure_watched_model,
    model_location,
    plan_run,
    resolve_model,
    run_suite,
)
from monitor.pipeline._steps import (
    PROCESS_STEPS,
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
    "ANALYSER_VERSION",
    "FAILED_RUN_RETRY_AFTER",
    "PROCESS_STEPS",
    "AnalyseSummary",
    "BackgroundPoller",
    "ChangeRecord",
    "ComparisonOutcome",
    "CycleContext",
    "CycleObserver",
    "CycleReport",
    "EndpointSource",
    "ExportRecord",
    "PendingRun",
    "PollResult",
    "ResolvedModel",
    "RunOutcome",
    "RunPlan",
    "SourceFactory",
    "Step",
    "alert_callbacks",
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
    "find_baseline_sha",
    "fresh_seed",
    "hub_cache_dir",
    "model_config_for",
    "model_location",
    "pending_runs",
    "pinned_revision",
    "plan_run",
    "poll_model",
    "poll_step",
    "poll_watched",
    "process_pending",
    "raise_pending_alerts",
    "read_export",
    "register_classifier",
    "rerun_step",
    "resolve_model",
    "response_set_for_runs",
    "response_sets_from_export",
    "reviewer_examples",
    "run_cycle",
    "run_pending",
    "run_step",
    "run_suite",
    "sync_watched_models",
]
