"""Several accounts on one database: the account a process runs as (accounts.py), its process lock
(lock.py), and its share of the groups, of the events and of the scheduled jobs (fleet.py, with the SQL
in storage/leases.py). README: "Several accounts on one PostgreSQL".

- **Leases.** A group is served by one account at a time: the one holding its row in `group_leases`
  (storage/leases.py). The process claims the groups it hears from (any event, the platform's rosters)
  that its account serves, renews them every `fleet.lease_seconds / 3`, and acts for a group only
  until two thirds of the lease after the claim that gave it (so it has stopped well before another
  may take the group). A group whose lease ran out — its account stopped renewing — is taken at the
  next round of an account that serves it and is in it: 2/3 to 4/3 of `lease_seconds` after the
  holder went silent. A clean stop gives its leases up at once. After a restart an account claims its
  own leases again first (the groups it served before). A group it has heard nothing from for a day
  (no message, no member list: it was removed from it) it no longer serves.
- **Events.** An event from a group another account holds is dropped before handling (a debug line and
  `counts["held_elsewhere"]`); one from a group this account does not serve, likewise
  (`counts["not_served"]`). Direct messages are handled by the account they came to. Event ids make a
  re-delivery a no-op across processes as within one (the events table is read, never a process's memory).
- **Taking a group over** drops every cache (another process wrote that group meanwhile), adopts the
  group's pending timers (a welcome batch, a poll's end the previous holder set) and runs the scheduled
  jobs whose latest instant passed within the misfire grace for the groups taken over (the per-group
  claims keep what the previous holder already did from running twice).
- **Scheduled jobs** run in every process, each for the groups it holds: before acting for a group, a
  job claims (job, instant, group) in `job_claims`, so a group is served once per instant across
  processes even around a takeover; the run is recorded as "<job>@<account>". A crash in the middle
  of a run leaves its groups claimed: they are not served again for that instant (at most once).
- **Timers** (a welcome batch, a poll's end …) fire in the process holding their group, after claiming
  (timer, instant) as a whole; a claim whose run was never recorded may be taken again by the same
  account at once (a restart) or by another after `lease_seconds`.
- **Sending.** A process is one account with its own outbox (so `outbox.per_account_per_minute` paces each
  account); what a group needs sent goes through its holder: a console's removal in another process is
  picked up by the group's holder, and at start a process resends only what it left undelivered for the
  groups it still holds (and its own job runs' direct messages).
- **One process per SQLite file, one per account on PostgreSQL** (lock.py).
"""

from bot.fleet.accounts import CURRENT_ACCOUNT, Account, choose_account, with_account
from bot.fleet.fleet import Fleet, join_fleet
from bot.fleet.lock import AlreadyRunning

__all__ = ["CURRENT_ACCOUNT", "Account", "AlreadyRunning", "Fleet", "choose_account", "join_fleet", "with_account"]
