"""Daily reconciliation per province, both ways (DOMAIN.md section 6).

For a Beijing-time day, every outcome a pipeline's source changed that day is mapped
with the pipeline's own mapping and compared with the other side's staging row: it
agrees, is missing, differs, was rejected (dead letter) or is filtered on purpose,
and an outcome applied more than 3 working days after its change is late.

* :mod:`~bridge.reconcile.calendar`: working days by China's official calendar;
* :mod:`~bridge.reconcile.compare`: the verdict on one outcome (pure);
* :mod:`~bridge.reconcile.report`: counts per province and direction (pure);
* :mod:`~bridge.reconcile.read`: reading the source, staging and dead-letter tables;
* :mod:`~bridge.reconcile.day`: one day over every pipeline.
"""

from bridge.reconcile.day import PipelineSides, reconcile_day
from bridge.reconcile.report import Report, report_json

__all__ = ["PipelineSides", "Report", "reconcile_day", "report_json"]
