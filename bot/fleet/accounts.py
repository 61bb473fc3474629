"""Which account this process runs as, the groups it serves, and its Wechaty settings.

Without `accounts:` in config.yaml there is one account, `bot.id`, serving every group (as always).
With it, `qunbot run --account ID` picks one (a list of one needs no --account); that account's
`endpoint`/`token` override the `wechaty:` section, and its `groups` ("all", or ids and name globs)
say which of the rooms it is in it serves.
"""

from __future__ import annotations

import fnmatch
from contextvars import ContextVar
from dataclasses import dataclass

from bot.cli_args import UsageError
from rules.config import Config, is_id_key
from rules.schema import AccountSettings

# the account this process (or this task, in tests) runs as: set by `qunbot run --account`
CURRENT_ACCOUNT: ContextVar[str | None] = ContextVar("qunbot_account", default=None)


@dataclass(frozen=True)
class Account:
    """The account a process runs as; `several`: config.yaml lists accounts (leases and claims apply)."""

    id: str
    several: bool


def choose_account(config: Config, wanted: str | None) -> Account:
    """The account to run as (UsageError, one line, when `wanted` is not in the config or is needed)."""
    accounts = config.model.accounts
    if not accounts:
        if wanted is not None and wanted != config.bot_id:
            raise UsageError(f"config.yaml has no accounts: list, so there is no account {wanted!r} "
                             f"(the one account is bot.id, {config.bot_id!r})")
        return Account(config.bot_id, several=False)
    ids = [a.id for a in accounts]
    if wanted is None:
        if len(accounts) > 1:
            raise UsageError(f"config.yaml lists {len(ids)} accounts ({', '.join(ids)}): choose one with --account ID")
        wanted = ids[0]
    if wanted not in ids:
        raise UsageError(f"no account {wanted!r} in config.yaml (accounts: {', '.join(ids)})")
    return Account(wanted, several=True)


def settings_of(config: Config, account_id: str) -> AccountSettings | None:
    return next((a for a in config.model.accounts if a.id == account_id), None)


def with_account(config: Config, account_id: str) -> Config:
    """The config with the account's endpoint and token (when set) in place of `wechaty:`'s."""
    account = settings_of(config, account_id)
    if account is None:
        return config
    changes = {k: v for k, v in (("endpoint", account.endpoint), ("token", account.token)) if v}
    if not changes:
        return config
    model = config.model.model_copy(update={"wechaty": config.model.wechaty.model_copy(update=changes)})
    return Config(model, config.raw_groups, config.raw_defaults, config.source)


def serves(account: AccountSettings | None, group: str, name: str | None) -> bool:
    """Does the account serve this group (when it is in it)? "all", or a listed id, or a name glob (a key
    with "@" is an id and matches only that id, as in `groups:`)."""
    if account is None or account.groups == "all":
        return True
    for pattern in account.groups:
        if pattern == group:
            return True
        if not is_id_key(pattern) and name is not None and fnmatch.fnmatchcase(name, pattern):
            return True
    return False
