"""A CloudWatch metric as its owner publishes it: namespace, name, dimensions.

Constructs that own a resource say how its metrics are addressed
(``load_balancer.metric("HTTPCode_ELB_5XX_Count")``); alarms and the dashboard
only consume :class:`Metric` values, so each dimension is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    #: Ordered (name, value) pairs: the dashboard's JSON keeps this order.
    dimensions: tuple[tuple[str, str], ...]

    @property
    def dimension_map(self) -> dict[str, str]:
        """Dimensions as an alarm takes them."""
        return dict(self.dimensions)

    def dashboard_row(self) -> list[Any]:
        """``[namespace, name, dim1, value1, ...]``: a dashboard widget's metric row."""
        return [self.namespace, self.name, *(part for pair in self.dimensions for part in pair)]
