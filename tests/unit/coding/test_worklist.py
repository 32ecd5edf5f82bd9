"""A task is workable only when it has a coder, is not on hold and waits on no query."""

from services.coding.domain.worklist import task_status


def test_a_task_is_open_only_with_a_coder_no_hold_and_no_open_query() -> None:
    assert task_status("open", has_coder=True, held=False, open_queries=0) == "open"
    assert task_status("open", has_coder=False, held=False, open_queries=0) == "unassigned"
    assert task_status("open", has_coder=True, held=False, open_queries=2) == "awaiting_answer"
    assert task_status("awaiting_answer", has_coder=True, held=True, open_queries=1) == "on_hold"
    assert task_status("on_hold", has_coder=True, held=False, open_queries=0) == "open"


def test_submitted_and_withdrawn_tasks_stay_closed() -> None:
    for closed in ("submitted", "withdrawn"):
        assert task_status(closed, has_coder=True, held=False, open_queries=0) == closed
