"""Inter-municipal energy team and its action plan (PAES/PAESC of the Covenant of Mayors): pure parts.

:mod:`condivisa.energy_team.plan` aggregates the actions of the plan (totals by sector, municipality and status,
savings [MWh/year], renewable production [MWh/year], emissions avoided [t CO2/year], progress against the target,
indicators' latest values, the progress report for the political table) and writes the rows of the export shaped
like the Covenant of Mayors' reporting template; :mod:`condivisa.energy_team.meetings` generates monthly meeting
schedules in Italian local time and structures agendas and minutes. Storage is in
:mod:`condivisa.store.energy_team`, pages in :mod:`condivisa.web.energy_team`.
"""
