"""Designing a community before it exists: profiles, configurations, sizing, economics, sharing rules.

Pure computation: functions take data and parameters and return results; reading project files and writing
reports happen in :mod:`condivisa.cli` and :mod:`condivisa.report`.
"""
