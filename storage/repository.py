"""The base of every repository: a view over the one journal, with its own buffered writes and caches."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from storage.journal import BulkWrite

if TYPE_CHECKING:
    from storage.journal import Journal
    from storage.store import Store


class Repository:
    """A feature's reads and writes (or a shared table's). Built once per store, before it opens.

    `writes` are registered with the journal (their order decides where their rows go when the
    buffers are sealed); `forget` drops the caches when the journal asks (after a rollback);
    `opened(empty)` says whether the database started empty (then caches that see every write are
    complete: a miss means "none")."""

    writes: ClassVar[tuple[BulkWrite, ...]] = ()

    def __init__(self, store: Store) -> None:
        self.journal: Journal = store
        for write in self.writes:
            store.register(write)
        store.on_forget(self.forget)

    @property
    def decides_in_memory(self) -> bool:
        """The database's one writer (`Journal.alone`) with its caches intact (not `recovered`): what
        only it moves may be decided from memory and written with the next flush."""
        return self.journal.alone and not self.journal.recovered

    def opened(self, empty: bool) -> None:
        """The database is open; `empty`: it had no event before this process."""

    def forget(self) -> None:
        """Drop what is cached (the journal calls this after a rollback or when a cache grew too big)."""


class SharedTables(Repository):
    """The repository of a feature with no tables of its own: the shared members, event and audit logs."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.members, self.events, self.audit = store.members, store.events, store.audit
