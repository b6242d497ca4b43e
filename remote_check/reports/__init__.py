"""A city's reports to the province (报省汇总备案): its plan and its results, as XLSX and PDF, filed
immutably; and the province's dashboard of every city's progress.

``columns`` holds the province's column order (one list per table, Chinese headers); ``content``
the pure shapes of a report; ``gather`` reads them from the database (no sessions: the schedule
is read one layer up, :mod:`scheduler.reporting`); ``xlsx`` and ``pdf`` render; ``filing`` stores
and supersedes filed reports; ``dashboard`` reads the province's overview.
"""
