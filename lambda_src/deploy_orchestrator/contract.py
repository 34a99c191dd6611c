"""What the infrastructure and the function agree on, written once.

The constructs (``constructs_lib``) import this module to configure the
function, the task definition and the build; the function imports it at run
time (it ships in the function's package). Standard library only.
"""

from __future__ import annotations

#: The task definition's application container: the one the pipeline builds an
#: image for (``imagedefinitions.json`` names it) and the orchestrator rolls.
APP_CONTAINER = "app"

#: Environment variables the function reads, and what each holds.
ENV_CLUSTER = "CLUSTER_NAME"
ENV_SERVICE = "SERVICE_NAME"
ENV_SECRET_ARN = "SECRET_ARN"  # noqa: S105 - the variable's name, not a secret
ENVIRONMENT_VARIABLES = (ENV_CLUSTER, ENV_SERVICE, ENV_SECRET_ARN)

#: The settings secret's first value; operators may change it (the function
#: falls back to these for any key missing from the secret).
SETTINGS_DEFAULTS: dict[str, str | int] = {"deployment_timeout_seconds": 1800, "container_name": APP_CONTAINER}
