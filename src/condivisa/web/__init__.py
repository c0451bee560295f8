"""The web platform: FastAPI application, server-rendered pages (Jinja2), HTTP API, roles and tenants.

Shell only: every computation calls :mod:`condivisa.engine`, :mod:`condivisa.allocation` and friends, every
stored datum goes through :mod:`condivisa.store`.
"""
