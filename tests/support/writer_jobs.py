"""Jobs for the group writer's tests (test_group_commit.py, test_loop_writer.py): each writes
used-challenge keys, so what a group committed is read back from that table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from latchkey.errors import ChallengeUsed
from latchkey.runtime.group_commit import alone, undoable
from latchkey.store import used_challenges as used_store


def insert(key: str, *, fail: bool = False) -> Any:
    """Writes `key`; raises after writing it when told to."""

    def run(conn: Connection) -> str:
        used_store.add(conn, key)
        if fail:
            raise ValueError("this job breaks")
        return key

    return run


def partly_undone(key: str, *, fail: bool = False) -> Any:
    """Keeps `key`, and `key` + "-use" unless the undoable block fails; says if it ran alone."""

    def run(conn: Connection) -> tuple[str, bool]:
        used_store.add(conn, key)
        try:
            with undoable(conn):
                used_store.add(conn, key + "-use")
                if fail:
                    raise ChallengeUsed("this use loses")
        except ChallengeUsed:
            return "failed", alone()
        return key, alone()

    return run
