"""The municipality's public services as pure computation (no I/O): desk decisions, label criteria,
matchmaking scores, public buildings' potential. Storage is in :mod:`condivisa.store`, pages in
:mod:`condivisa.web` (modules ``civic_*``)."""
