"""The province-wide planner of checks (issue 11): instance and plan formats, the planner, its
independent checker and the ``plan``/``plan-check`` commands. Pure code: no database, no asyncio."""
