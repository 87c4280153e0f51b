"""The map stage: YAML mapping files compiled into per-row translations.

>>> mapping = load_mapping("mappings/xyzg_to_gsxt.yaml")
>>> result = mapping.apply(event)     # TargetRow | Rejection | Filtered
>>> source_row = mapping.reverse(target_values)

The language is documented in ``docs/mappings.md``.
"""

from bridge.map.compiled import (
    ConflictPolicy,
    DeletePolicy,
    Mapping,
    MetadataColumns,
)
from bridge.map.document import MappingFileError, Problem
from bridge.map.loader import load_mapping, parse_mapping

__all__ = [
    "ConflictPolicy",
    "DeletePolicy",
    "Mapping",
    "MappingFileError",
    "MetadataColumns",
    "Problem",
    "load_mapping",
    "parse_mapping",
]
