"""CI's roles allow exactly what CI runs: evidence from every call terraform and the deploy tool
made on the emulator during this group's deploy, plan, drift and apply-plan (test_day_two.py
runs them before this module). The teardown group checks its deploys and destroys the same way.
"""

from __future__ import annotations

import pytest

from constructs_lib import ci_access
from constructs_lib.settings import load_settings
from tests.integration.conftest import CONFIG, Deployment
from tests.integration.least_privilege import (
    check,
    deploy_role_union,
    deployed_documents,
    each_permission_is_needed,
    recorded,
    shared_folder,
    unexplained,
)

pytestmark = pytest.mark.integration


def test_each_role_allows_every_call_ci_makes_with_it(
    deployment: Deployment, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = load_settings(CONFIG)
    calls = recorded(deployment.workspace)
    documents = deployed_documents(deployment.client("iam"), settings)
    verdicts = check(calls, documents, settings)  # the plan role's verbs all ran here: complete
    called = {n.action for n in verdicts["deploy"].needed}
    unused = deploy_role_union("day-two", called, documents["deploy"], shared_folder(tmp_path_factory))
    if unused is not None:  # the teardown group finished first: the deploy role's union is complete
        assert unexplained(unused) == []
    plan_actions = {n.action for n in verdicts["plan"].needed}
    # The calls that matter most are among them: the state read (no lock), and the apply's lock files.
    assert "s3:GetObject" in plan_actions
    assert "dynamodb:PutItem" not in plan_actions
    assert "s3:PutObject" not in plan_actions
    lock_files = [n for n in verdicts["deploy"].needed if n.resource.endswith(".tflock")]
    assert {n.action for n in lock_files} >= {"s3:PutObject", "s3:DeleteObject"}
    # What the plan role holds and never called is needed only on AWS, and says why.
    assert set(verdicts["plan"].unused) == {"kms:Decrypt"}
    assert "kms:Decrypt" in ci_access.ONLY_ON_AWS


def test_removing_any_needed_permission_fails_the_check(deployment: Deployment) -> None:
    settings = load_settings(CONFIG)
    calls = recorded(deployment.workspace)
    documents = deployed_documents(deployment.client("iam"), settings)
    tried = each_permission_is_needed(calls, documents, settings)
    assert tried["plan"] > 20, tried
    assert tried["deploy"] > 100, tried
