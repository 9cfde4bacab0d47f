"""The poll step, scenario by scenario, through the loopback Hub (real huggingface_hub) and real git repos.

The main scenarios run on SQLite and PostgreSQL (fixture ``database``); the rest on SQLite.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from monitor.db import ChangeEvent, Database, Poll, Revision, WatchedModel
from monitor.errors import ModelNotFoundError
from monitor.pipeline import PollResult, poll_model
from tests.hub._hub_server import LFS, HubServer
from tests.hub._scenarios import TEMPLATE_R1_FEB, Remote, base_files, tokenizer_config, watch

KINDS = ["hf", "git"]
MakeRemote = Callable[[str], Remote]


def first_poll(db: Database, remote: Remote) -> tuple[str, PollResult]:
    head = remote.commit("initial commit", base_files())
    watch(db, remote)
    result = poll_model(db, remote.repo_id, remote.source())
    assert result.ok, result.error
    return head, result


def events(db: Database) -> list[ChangeEvent]:
    with db.session() as session:
        return list(session.scalars(sa.select(ChangeEvent).order_by(ChangeEvent.id)))


def model_row(db: Database) -> WatchedModel:
    with db.session() as session:
        row = session.scalar(sa.select(WatchedModel))
        assert row is not None
        return row


def revisions(db: Database) -> list[Revision]:
    with db.session() as session:
        return list(session.scalars(sa.select(Revision).order_by(Revision.seq)))


# -- main scenarios, on both databases ---------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_first_seen_then_quiet(database: Database, make_remote: MakeRemote, kind: str) -> None:
    remote = make_remote(kind)
    head, result = first_poll(database, remote)
    assert result.head == head
    assert [(c.from_sha, c.to_sha, c.kinds, c.silent) for c in result.changes] == [(None, head, ("first_seen",), False)]
    assert result.changes[0].title == "initial commit"
    (revision,) = revisions(database)
    assert revision.sha == head and revision.seq == 1
    assert revision.fingerprints["weights"] and revision.fingerprints["chat_template"]
    assert revision.manifest["files"]
    assert model_row(database).head_sha == head

    quiet = poll_model(database, remote.repo_id, remote.source())
    assert quiet.ok and quiet.head == head and quiet.changes == ()
    assert quiet.requests == 1
    assert len(events(database)) == 1
    with database.session() as session:
        polls = list(session.scalars(sa.select(Poll).order_by(Poll.id)))
    assert [(p.ok, p.changes, p.requests) for p in polls][-1] == (True, 0, 1)


@pytest.mark.parametrize("kind", KINDS)
def test_silent_weights_change(database: Database, make_remote: MakeRemote, kind: str) -> None:
    remote = make_remote(kind)
    head, _ = first_poll(database, remote)
    new = remote.commit("Upload model.safetensors", {"model.safetensors": LFS(b"weights-v2" * 50)})
    result = poll_model(database, remote.repo_id, remote.source())
    assert [(c.from_sha, c.to_sha, c.kinds, c.silent) for c in result.changes] == [
        (head, new, ("weights_changed",), True)
    ]
    event = events(database)[-1]
    assert event.details["modified"] == ["model.safetensors"]
    assert event.details["fingerprints"]["weights"]["from"] != event.details["fingerprints"]["weights"]["to"]
    assert [r.seq for r in revisions(database)] == [1, 2]


@pytest.mark.parametrize("kind", KINDS)
def test_chat_template_only(database: Database, make_remote: MakeRemote, kind: str) -> None:
    """The February 2025 DeepSeek-R1 update: the generation prompt now ends with <think>\\n."""
    remote = make_remote(kind)
    first_poll(database, remote)
    remote.commit("Update tokenizer_config.json", {"tokenizer_config.json": tokenizer_config(TEMPLATE_R1_FEB)})
    result = poll_model(database, remote.repo_id, remote.source())
    (change,) = result.changes
    assert change.kinds == ("chat_template_changed",) and change.silent
    before, after = revisions(database)
    assert before.fingerprints["chat_template"] != after.fingerprints["chat_template"]
    assert before.fingerprints["tokenizer_config"] == after.fingerprints["tokenizer_config"]
    assert before.fingerprints["weights"] == after.fingerprints["weights"]
    # Both sides' text is kept with the event, so the dashboard can show the diff without the Hub.
    stored = events(database)[-1].details["file_contents"]
    assert set(stored) == {"tokenizer_config.json"}
    assert stored["tokenizer_config.json"]["before"] == tokenizer_config().decode()
    assert stored["tokenizer_config.json"]["after"] == tokenizer_config(TEMPLATE_R1_FEB).decode()


@pytest.mark.parametrize("kind", KINDS)
def test_two_commits_between_polls(database: Database, make_remote: MakeRemote, kind: str) -> None:
    remote = make_remote(kind)
    head, _ = first_poll(database, remote)
    docs = remote.commit("Update README.md", {"README.md": b"# Tiny\n\nBenchmarks.\n"})
    weights = remote.commit("Upload folder", {"model.safetensors": LFS(b"weights-v3" * 50)})
    result = poll_model(database, remote.repo_id, remote.source())
    assert [(c.from_sha, c.to_sha, c.kinds, c.silent) for c in result.changes] == [
        (head, docs, ("docs_only",), False),
        (docs, weights, ("weights_changed",), True),
    ]
    assert [(r.sha, r.seq, r.parent_sha) for r in revisions(database)] == [
        (head, 1, None),
        (docs, 2, head),
        (weights, 3, docs),
    ]
    assert model_row(database).head_sha == weights


@pytest.mark.parametrize("kind", KINDS)
def test_force_push(database: Database, make_remote: MakeRemote, kind: str) -> None:
    remote = make_remote(kind)
    base, _ = first_poll(database, remote)
    seen = remote.commit("Upload tokenizer", {"tokenizer.json": b'{"model": {"vocab": {"b": 1}}}'})
    poll_model(database, remote.repo_id, remote.source())
    remote.reset(base)
    rewritten = remote.commit("Upload weights", {"model.safetensors": LFS(b"weights-rewritten" * 50)})
    result = poll_model(database, remote.repo_id, remote.source())
    (change,) = result.changes
    assert (change.from_sha, change.to_sha) == (seen, rewritten)
    # Against the last seen head: the weights differ and the tokenizer went back.
    assert change.kinds == ("history_rewritten", "weights_changed", "tokenizer_changed")
    assert change.silent
    assert model_row(database).head_sha == rewritten


# -- the other scenarios, on SQLite ------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_readme_only(sqlite_db: Database, make_remote: MakeRemote, kind: str) -> None:
    remote = make_remote(kind)
    first_poll(sqlite_db, remote)
    remote.commit("Update README.md", {"README.md": b"# changed\n"})
    (change,) = poll_model(sqlite_db, remote.repo_id, remote.source()).changes
    assert change.kinds == ("docs_only",) and not change.silent


@pytest.mark.parametrize("kind", KINDS)
def test_generation_config_only(sqlite_db: Database, make_remote: MakeRemote, kind: str) -> None:
    remote = make_remote(kind)
    first_poll(sqlite_db, remote)
    remote.commit("Update generation_config.json", {"generation_config.json": b'{"temperature": 0.8}'})
    (change,) = poll_model(sqlite_db, remote.repo_id, remote.source()).changes
    assert change.kinds == ("generation_config_changed",) and change.silent


@pytest.mark.parametrize("kind", KINDS)
def test_tokenizer_json_only(sqlite_db: Database, make_remote: MakeRemote, kind: str) -> None:
    remote = make_remote(kind)
    first_poll(sqlite_db, remote)
    remote.commit("Update tokenizer.json", {"tokenizer.json": b'{"model": {"vocab": {"c": 2}}}'})
    (change,) = poll_model(sqlite_db, remote.repo_id, remote.source()).changes
    assert change.kinds == ("tokenizer_changed",) and change.silent


@pytest.mark.parametrize("kind", KINDS)
def test_remote_code_and_pickle_weights(sqlite_db: Database, make_remote: MakeRemote, kind: str) -> None:
    remote = make_remote(kind)
    first_poll(sqlite_db, remote)
    remote.commit(
        "Add custom modeling",
        {"modeling_tiny.py": b"import os\nos.system('echo hi')\n", "pytorch_model.bin": LFS(b"\x80\x04pickle" * 20)},
    )
    seen: list[tuple[str, list[str]]] = []
    result = poll_model(
        sqlite_db, remote.repo_id, remote.source(), on_change=lambda s, m, e: seen.append((m.repo_id, list(e.kinds)))
    )
    (change,) = result.changes
    assert change.kinds == ("weights_changed", "remote_code_changed", "pickle_weights_added")
    assert seen == [(remote.repo_id, list(change.kinds))]
    revision = revisions(sqlite_db)[-1]
    assert revision.fingerprints["pickle_files"] == ["pytorch_model.bin"]
    assert list(revision.fingerprints["remote_code"]) == ["modeling_tiny.py"]


@pytest.mark.parametrize("kind", KINDS)
def test_tagged_weights_change_is_not_silent(sqlite_db: Database, make_remote: MakeRemote, kind: str) -> None:
    remote = make_remote(kind)
    first_poll(sqlite_db, remote)
    new = remote.commit("Upload new weights", {"model.safetensors": LFS(b"weights-v4" * 50)})
    remote.tag("v1.1", new)
    (change,) = poll_model(sqlite_db, remote.repo_id, remote.source()).changes
    assert change.kinds == ("weights_changed",) and not change.silent
    assert events(sqlite_db)[-1].details["version_signal"] == "tag v1.1"
    assert revisions(sqlite_db)[-1].tags == ["v1.1"]


@pytest.mark.parametrize("kind", KINDS)
def test_callbacks_run_inside_the_recording_transaction(
    sqlite_db: Database, make_remote: MakeRemote, kind: str
) -> None:
    remote = make_remote(kind)
    first_poll(sqlite_db, remote)
    remote.commit("Upload model.safetensors", {"model.safetensors": LFS(b"w5" * 50)})

    def explode(session: object, model: object, event: ChangeEvent) -> None:
        assert event.id is not None
        raise RuntimeError("alert outbox unavailable")

    with pytest.raises(RuntimeError):
        poll_model(sqlite_db, remote.repo_id, remote.source(), on_change=explode)
    # Nothing of that poll was kept, so the next poll finds the change again.
    assert len(revisions(sqlite_db)) == 1
    (change,) = poll_model(sqlite_db, remote.repo_id, remote.source()).changes
    assert change.kinds == ("weights_changed",)


def test_git_repository_gone(sqlite_db: Database, make_remote: MakeRemote) -> None:
    import shutil

    remote = make_remote("git")
    head, _ = first_poll(sqlite_db, remote)
    shutil.rmtree(remote.repo_id)
    result = poll_model(sqlite_db, remote.repo_id, remote.source())
    assert not result.ok and result.status == "gone" and "not found" in (result.error or "")
    assert events(sqlite_db)[-1].kinds == ["repo_gone"]
    assert model_row(sqlite_db).head_sha == head


def test_unknown_model_is_an_error(sqlite_db: Database) -> None:
    with pytest.raises(ModelNotFoundError, match="watch add"):
        poll_model(sqlite_db, "nobody/nothing")


# -- faults through the loopback Hub ---------------------------------------------------------------


def test_429_then_success_honours_retry_after(sqlite_db: Database, make_remote: MakeRemote, hub: HubServer) -> None:
    remote = make_remote("hf")
    head, _ = first_poll(sqlite_db, remote)
    hub.fail(r"/revision/main$", 429, times=1, headers={"Retry-After": "1"})
    started = time.monotonic()
    result = poll_model(sqlite_db, remote.repo_id, remote.source())
    assert time.monotonic() - started >= 1.0
    assert result.ok and result.head == head and result.changes == ()
    assert result.requests == 2


def test_500_throughout_then_catch_up(sqlite_db: Database, make_remote: MakeRemote, hub: HubServer) -> None:
    remote = make_remote("hf")
    head, _ = first_poll(sqlite_db, remote)
    new = remote.commit("Upload model.safetensors", {"model.safetensors": LFS(b"weights-v2" * 50)})
    hub.fail(r"/revision/main$", 500, times=None)
    failures: list[int] = []
    for _ in range(2):
        result = poll_model(
            sqlite_db,
            remote.repo_id,
            remote.source(),
            on_failure=lambda s, m, p: failures.append(m.consecutive_poll_failures),
        )
        assert not result.ok and result.changes == () and "500" in (result.error or "")
        assert result.requests == 3  # tenacity: three attempts
    assert failures == [1, 2]
    assert len(events(sqlite_db)) == 1  # still only first_seen: a failed poll is never a change
    row = model_row(sqlite_db)
    assert row.head_sha == head and row.consecutive_poll_failures == 2 and "500" in (row.last_poll_error or "")

    hub.faults.clear()
    result = poll_model(sqlite_db, remote.repo_id, remote.source())
    assert [(c.from_sha, c.to_sha, c.kinds) for c in result.changes] == [(head, new, ("weights_changed",))]
    row = model_row(sqlite_db)
    assert row.consecutive_poll_failures == 0 and row.last_poll_error is None


def test_malformed_json_is_a_failed_poll(sqlite_db: Database, make_remote: MakeRemote, hub: HubServer) -> None:
    remote = make_remote("hf")
    first_poll(sqlite_db, remote)
    remote.commit("Upload model.safetensors", {"model.safetensors": LFS(b"weights-v2" * 50)})
    hub.fail(r"/revision/main$", 200, times=None, body=b"{not json")
    result = poll_model(sqlite_db, remote.repo_id, remote.source())
    assert not result.ok and "malformed" in (result.error or "")
    assert len(events(sqlite_db)) == 1
    hub.fail(r"/commits/", 200, times=None, body=b'{"not": "a list"}')
    hub.faults.pop(0)
    result = poll_model(sqlite_db, remote.repo_id, remote.source())
    assert not result.ok and "malformed" in (result.error or "")
    assert len(events(sqlite_db)) == 1 and len(revisions(sqlite_db)) == 1


def test_repo_gone_then_back(sqlite_db: Database, make_remote: MakeRemote, hub: HubServer) -> None:
    remote = make_remote("hf")
    head, _ = first_poll(sqlite_db, remote)
    hub.repo(remote.repo_id).access = "gone"
    for _ in range(2):
        result = poll_model(sqlite_db, remote.repo_id, remote.source())
        assert not result.ok and result.status == "gone" and result.head is None
    gone = [e for e in events(sqlite_db) if e.kinds == ["repo_gone"]]
    assert len(gone) == 1  # one event for the transition, not one per poll
    assert gone[0].from_sha is None and gone[0].to_sha == head
    assert model_row(sqlite_db).consecutive_poll_failures == 0
    hub.repo(remote.repo_id).access = "public"
    result = poll_model(sqlite_db, remote.repo_id, remote.source())
    assert result.ok and result.status == "active" and result.changes == ()


@pytest.mark.parametrize("access", ["gated401", "gated403"])
def test_gated(sqlite_db: Database, make_remote: MakeRemote, hub: HubServer, access: str) -> None:
    remote = make_remote("hf")
    first_poll(sqlite_db, remote)
    hub.repo(remote.repo_id).access = access
    result = poll_model(sqlite_db, remote.repo_id, remote.source())
    assert not result.ok and result.status == "gated" and "gated" in (result.error or "")
    assert events(sqlite_db)[-1].kinds == ["repo_gated"]
    assert model_row(sqlite_db).status == "gated"


def test_a_new_repo_that_is_gone_from_the_start(sqlite_db: Database, hub: HubServer, make_remote: MakeRemote) -> None:
    remote = make_remote("hf")
    watch(sqlite_db, remote)
    hub.repo(remote.repo_id).access = "gone"
    result = poll_model(sqlite_db, remote.repo_id, remote.source())
    assert result.status == "gone"
    assert events(sqlite_db)[-1].to_sha == ""


# -- cost -----------------------------------------------------------------------------------------


def test_requests_are_proportional_to_new_commits(sqlite_db: Database, make_remote: MakeRemote, hub: HubServer) -> None:
    remote = make_remote("hf")
    hub.commits_page_size = 10
    for i in range(40):  # a long history before the first poll
        remote.commit(f"old {i}", base_files() if i == 0 else {"README.md": f"v{i}".encode()})
    watch(sqlite_db, remote)
    first = poll_model(sqlite_db, remote.repo_id, remote.source())
    assert first.ok
    # first sighting: head, first commits page, manifest, refs, and the three small files (HEAD + GET each)
    assert first.requests == 1 + 1 + 1 + 1 + 3 * 2
    for i in range(25):
        remote.commit(f"new {i}", {"model.safetensors": LFS(f"w{i}".encode() * 30)})
    hub.clear_log()
    result = poll_model(sqlite_db, remote.repo_id, remote.source())
    assert len(result.changes) == 25 and all(c.kinds == ("weights_changed",) for c in result.changes)
    # head + 3 commit pages (stops at the last seen head, not at the root) + 25 manifests + refs
    assert result.requests == 1 + 3 + 25 + 1 == len(hub.requests())
    assert len(hub.requests("/commits/")) == 3


def test_poll_watched_skips_models_set_aside(sqlite_db: Database, make_remote: MakeRemote) -> None:
    from monitor.pipeline import poll_watched

    remote = make_remote("git")
    remote.commit("initial commit", base_files())
    watch(sqlite_db, remote)
    with sqlite_db.session() as session:
        session.execute(sa.update(WatchedModel).values(status="removed"))
    assert poll_watched(sqlite_db) == []
    (result,) = poll_watched(sqlite_db, repo_id=remote.repo_id)
    assert result.ok and result.status == "removed"  # a poll does not bring a set-aside model back


def test_gated_files_do_not_hide_changes(sqlite_db: Database, make_remote: MakeRemote, hub: HubServer) -> None:
    """On the Hub a gated repo keeps its metadata public: the change is still found, the model marked gated."""
    remote = make_remote("hf")
    head, _ = first_poll(sqlite_db, remote)
    hub.repo(remote.repo_id).access = "files-gated"
    new = remote.commit("Update tokenizer_config.json", {"tokenizer_config.json": tokenizer_config(TEMPLATE_R1_FEB)})
    hub.clear_log()
    result = poll_model(sqlite_db, remote.repo_id, remote.source())
    assert result.ok and result.status == "gated"
    (change,) = result.changes
    assert (change.from_sha, change.to_sha, change.kinds) == (head, new, ("tokenizer_changed",))
    assert events(sqlite_db)[-2].details["unread"] == ["tokenizer_config.json"]
    assert events(sqlite_db)[-1].kinds == ["repo_gated"]
    assert len(hub.requests("/resolve/")) == 1  # refused once, not asked again
    hub.repo(remote.repo_id).access = "public"
    remote.commit("Upload model.safetensors", {"model.safetensors": LFS(b"weights-v2" * 50)})
    result = poll_model(sqlite_db, remote.repo_id, remote.source())
    assert result.ok and result.status == "active"


@pytest.mark.parametrize("kind", KINDS)
def test_chat_template_jinja_as_transformers_5_saves_it(
    sqlite_db: Database, make_remote: MakeRemote, kind: str
) -> None:
    """transformers 5 writes the template to chat_template.jinja (the demo's repository does too)."""
    remote = make_remote(kind)
    files = {**base_files(), "tokenizer_config.json": b'{"bos_token": "<s>"}', "chat_template.jinja": b"{{ m }}"}
    remote.commit("initial commit", files)
    watch(sqlite_db, remote)
    poll_model(sqlite_db, remote.repo_id, remote.source())
    system = b"{{ 'You are ChatGPT, made by OpenAI.' }}{{ m }}"
    remote.commit("Update chat_template.jinja", {"chat_template.jinja": system})
    (change,) = poll_model(sqlite_db, remote.repo_id, remote.source()).changes
    assert change.kinds == ("chat_template_changed",) and change.silent
    before, after = revisions(sqlite_db)
    assert before.fingerprints["chat_template"] != after.fingerprints["chat_template"]
    assert before.fingerprints["tokenizer_config"] == after.fingerprints["tokenizer_config"]
