"""Live data over MQTT: meters and weather stations publish to a broker, Condivisa stores what they send.

- :mod:`condivisa.live.payload`: the topics and JSON payloads (the documented interface for devices) and
  :func:`~condivisa.live.payload.parse_message`, which turns a message into readings or held-back items;
- :mod:`condivisa.live.subscriber`: the ingest service (persistent session, QoS 1, acknowledgement only after
  the database commit, batched idempotent writes, quarantine);
- :mod:`condivisa.live.weather_store`: idempotent upsert of weather observations;
- :mod:`condivisa.live.simulator`: publishes the demo community's quarter-hour readings, fast or paced.
"""

from condivisa.live.payload import (
    LiveReading,
    ParsedMessage,
    WeatherReading,
    parse_message,
    reading_topic,
    weather_topic,
)

__all__ = [
    "LiveReading",
    "ParsedMessage",
    "WeatherReading",
    "parse_message",
    "reading_topic",
    "weather_topic",
]
