"""checkov custom checks: one per rule in ``rules.py`` (loaded with ``--external-checks-dir``).

checkov's Python checks are its documented extension point for rules about one
resource; each check here only adapts checkov's rendering of a resource (every
attribute wrapped in a list, ``__startline__`` markers) back to the body in
``cdk.tf.json`` and asks the rule. The rules themselves are in ``rules.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rules import RULES, Rule


def plain(value: Any) -> Any:
    """checkov's conf -> the resource body as synthesized."""
    if isinstance(value, dict):
        return {k: plain(v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in value.items()
                if not k.startswith("__")}  # fmt: skip
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class AwsRuleCheck(BaseResourceCheck):  # type: ignore[misc]
    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        super().__init__(
            name=f"{rule.name} (AWS: {rule.source})",
            id=rule.id,
            categories=[CheckCategories.CONVENTION],
            supported_resources=[rule.resource_type],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.details.clear()
        why = self.rule.check(plain(conf))
        if why is None:
            return CheckResult.PASSED
        self.details.append(why)
        return CheckResult.FAILED


CHECKS = [AwsRuleCheck(rule) for rule in RULES]
