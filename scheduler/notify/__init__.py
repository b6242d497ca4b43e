"""Timed jobs and notifications of check sessions (issue 11 §3).

The database is the record: the jobs (invitation, connectivity test, reminder, no-show check,
cancellation) are derived from the sessions' rows (:mod:`.plan`) at start-up and after every
booking change, and every send is a row of the outbox (:mod:`.outbox`) with a unique key (kind,
session, recipient, version) that is claimed before anything goes out, so a restart, a second
process or a misfire never sends twice. :mod:`.runner` drives APScheduler; :mod:`.deliver` sends
by e-mail (:mod:`.mail`, with an iCalendar part from :mod:`.ics`) and to the city's WeCom robot
(:mod:`.wecom`). Experts subscribe to their checks by a revocable feed (:mod:`.feeds`).
"""
