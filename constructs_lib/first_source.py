"""The pipeline's first source: the sample application, uploaded before the pipeline exists.

CodePipeline starts an execution as soon as a pipeline is created ("When a pipeline is
created, a pipeline execution starts automatically", CodePipeline user guide,
pipelines-about-starting). With no ``source.zip`` in the source bucket yet, every new
environment would begin with a FAILED execution, a failure notice and the pipeline-failures
alarm. So the first deploy uploads ``sample_app/`` (its Dockerfile set to the container port
from the settings) as ``source.zip`` and the pipeline depends on it: on AWS the first
execution builds the sample, deploys it through the orchestrator and leaves it answering
through the load balancer.

The object is the first source only: Terraform ignores every change to it afterwards
(``ignore_changes = all``, listed with the service's ``task_definition`` in
``TERRAFORM_IGNORED``), so the user's own ``source.zip`` uploads are never reverted.
"""

from __future__ import annotations

import re
from pathlib import Path

from cdktf import AssetType, TerraformAsset, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.s3_object import S3Object
from constructs import Construct

from constructs_lib.staging import content_folder
from constructs_lib.storage import SecureBucket

SAMPLE_APP = Path(__file__).resolve().parent.parent / "sample_app"
#: The files of the sample that go into source.zip (nothing a test or editor leaves behind).
SAMPLE_FILES = ("Dockerfile", "app.py")
_PORT_LINES = (re.compile(r"^(ENV .*\bPORT=)\d+", re.M), re.compile(r"^(EXPOSE )\d+$", re.M))


def dockerfile(port: int) -> str:
    """The sample's Dockerfile for ``port`` (its ENV PORT and EXPOSE lines)."""
    text = (SAMPLE_APP / "Dockerfile").read_text()
    for line in _PORT_LINES:
        text, count = line.subn(rf"\g<1>{port}", text)
        if count != 1:
            raise ValueError(f"sample_app/Dockerfile: expected one line matching {line.pattern}")
    return text


def package_sample_app(port: int) -> Path:
    """A folder holding the sample as it is built for ``port``."""
    files = {name: (SAMPLE_APP / name).read_bytes() for name in SAMPLE_FILES}
    files["Dockerfile"] = dockerfile(port).encode()
    return content_folder("sample-app", files)


class FirstSource(Construct):
    """Attributes: ``object`` (the ``aws_s3_object``; the pipeline depends on it)."""

    def __init__(self, scope: Construct, id: str, *, bucket: SecureBucket, key: str, container_port: int) -> None:
        super().__init__(scope, id)
        code = TerraformAsset(self, "code", path=str(package_sample_app(container_port)), type=AssetType.ARCHIVE)
        self.object = S3Object(
            self,
            "this",
            bucket=bucket.name,
            key=key,
            source=code.path,
            # The bucket's default encryption (SSE-KMS with the environment key) applies.
            depends_on=[bucket.encryption],
            lifecycle=TerraformResourceLifecycle(ignore_changes="all"),
        )
