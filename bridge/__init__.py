"""creditbridge: change-data capture between Credit China and NECIPS.

The package is laid out as the pipeline runs: ``capture`` (Debezium engines and
Kafka consumers) -> ``decode`` (Debezium records to typed change events) -> ``map``
(YAML mappings) -> ``apply`` (staging writes, dead letters) -> ``checkpoint``
(source positions stored with the rows) -> ``observe`` (lag, metrics, status).
``pipeline`` wires the stages together, ``devenv`` runs the local demo systems
and ``cli`` is the thin command-line front.
"""

__version__ = "0.1.0"
