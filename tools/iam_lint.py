"""IAM lint gate: parliament over every policy of a synthesized stack.

parliament (https://github.com/duo-labs/parliament) checks each statement
against AWS's own catalogue of actions, resource types and condition keys:
unknown actions, actions whose resource type does not match the ARN given,
malformed statements, condition keys an action does not support. It is an
independent opinion on the policies our own wildcard walker and unit tests
also check.

Every identity, trust, key and resource policy in the stack is linted with its
Terraform interpolations (``${aws_s3_bucket.x.arn}``) replaced by well-formed
placeholder ARNs of the right resource type, so parliament can match
resource types. A reference this module has no placeholder for is an error,
not a silent skip. Findings must match an entry of
``tools/parliament/suppressions.toml`` (issue, policy kind, resource pattern,
justification), as checkov's do; anything else fails the gate.

    python -m tools.iam_lint cdktf.out/stacks/*/cdk.tf.json
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
import tomllib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
SUPPRESSIONS = ROOT / "tools" / "parliament" / "suppressions.toml"
ACCOUNT = "123456789012"

PolicyKind = Literal["identity", "trust", "key", "resource"]

#: ``${<type>.<name>.<attribute>}`` -> placeholder, by (type, attribute).
#: ``{region}`` and ``{account}`` are filled in per stack.
PLACEHOLDERS: Mapping[tuple[str, str], str] = {
    ("data.aws_caller_identity", "account_id"): "{account}",
    ("data.aws_partition", "partition"): "aws",
    ("data.aws_iam_session_context", "issuer_arn"): "arn:aws:iam::{account}:role/placeholder-deployer",
    ("aws_s3_bucket", "arn"): "arn:aws:s3:::placeholder-bucket",
    ("aws_s3_bucket", "bucket"): "placeholder-bucket",
    ("aws_s3_bucket", "id"): "placeholder-bucket",
    ("aws_kms_key", "arn"): "arn:aws:kms:{region}:{account}:key/11111111-2222-3333-4444-555555555555",
    ("aws_cloudwatch_log_group", "arn"): "arn:aws:logs:{region}:{account}:log-group:placeholder",
    ("aws_secretsmanager_secret", "arn"): "arn:aws:secretsmanager:{region}:{account}:secret:placeholder-AbCdEf",
    ("aws_secretsmanager_secret", "id"): "arn:aws:secretsmanager:{region}:{account}:secret:placeholder-AbCdEf",
    ("aws_sqs_queue", "arn"): "arn:aws:sqs:{region}:{account}:placeholder",
    ("aws_sns_topic", "arn"): "arn:aws:sns:{region}:{account}:placeholder",
    ("aws_lambda_function", "arn"): "arn:aws:lambda:{region}:{account}:function:placeholder",
    ("aws_iam_role", "arn"): "arn:aws:iam::{account}:role/placeholder",
    ("aws_ecr_repository", "arn"): "arn:aws:ecr:{region}:{account}:repository/placeholder",
    ("aws_codebuild_project", "arn"): "arn:aws:codebuild:{region}:{account}:project/placeholder",
    ("aws_codepipeline", "arn"): "arn:aws:codepipeline:{region}:{account}:placeholder",
    ("aws_cloudwatch_event_rule", "arn"): "arn:aws:events:{region}:{account}:rule/placeholder",
    ("aws_dynamodb_table", "arn"): "arn:aws:dynamodb:{region}:{account}:table/placeholder",
    ("aws_subnet", "id"): "subnet-0123456789abcdef0",
    ("aws_security_group", "id"): "sg-0123456789abcdef0",
    (
        "aws_iam_openid_connect_provider",
        "arn",
    ): "arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com",
    (
        "data.aws_iam_openid_connect_provider",
        "arn",
    ): "arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com",
}
_TOKEN = re.compile(r"\$\{((?:data\.)?[\w]+)\.[\w-]+\.(\w+)\}")


@dataclass(frozen=True)
class Finding:
    issue: str
    kind: PolicyKind
    stack: str
    resource: str
    detail: str

    def __str__(self) -> str:
        return f"{self.issue} {self.stack}:{self.resource} ({self.kind} policy): {self.detail}"


@dataclass(frozen=True)
class Suppression:
    issue: str
    kind: str
    resource: str
    justification: str
    detail: str = "*"

    def matches(self, finding: Finding) -> bool:
        return (
            finding.issue == self.issue
            and fnmatch.fnmatchcase(finding.kind, self.kind)
            and fnmatch.fnmatchcase(finding.resource, self.resource)
            and _star_glob(self.detail, finding.detail)
        )


def _star_glob(pattern: str, text: str) -> bool:
    """Only ``*`` is special: details are JSON, full of fnmatch's ``[`` and ``]``."""
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), text, re.DOTALL) is not None


def load_suppressions(path: Path = SUPPRESSIONS) -> list[Suppression]:
    out = []
    for entry in tomllib.loads(path.read_text())["suppression"]:
        if len(entry.get("justification", "")) < 40:
            raise ValueError(f"suppression {entry.get('issue')} needs a real justification")
        out.append(
            Suppression(
                entry["issue"], entry["kind"], entry["resource"], entry["justification"], entry.get("detail", "*")
            )
        )
    return out


def policy_kind(rtype: str, attribute: str) -> PolicyKind:
    if attribute == "assume_role_policy":
        return "trust"
    if rtype == "aws_kms_key":
        return "key"
    if rtype in ("aws_iam_role_policy", "aws_iam_policy", "aws_iam_user_policy", "aws_iam_group_policy"):
        return "identity"
    return "resource"


def policies(doc: Mapping[str, Any]) -> Iterator[tuple[str, PolicyKind, str]]:
    """(resource address, kind, policy JSON) for every JSON policy in a stack."""
    for rtype, items in doc.get("resource", {}).items():
        for name, body in items.items():
            for attribute, value in body.items():
                if isinstance(value, str) and value.lstrip().startswith("{") and '"Statement"' in value:
                    yield f"{rtype}.{name}", policy_kind(rtype, attribute), value


def with_placeholders(policy: str, region: str, account: str = ACCOUNT) -> str:
    def replace(match: re.Match[str]) -> str:
        key = (match.group(1), match.group(2))
        if key not in PLACEHOLDERS:
            raise KeyError(f"no placeholder for {match.group(0)}: add ({key[0]!r}, {key[1]!r}) to PLACEHOLDERS")
        return PLACEHOLDERS[key].format(region=region, account=account)

    return _TOKEN.sub(replace, policy)


def _detail(finding: Any) -> str:
    detail = finding.detail
    return detail if isinstance(detail, str) else json.dumps(detail, sort_keys=True)


def lint(doc: Mapping[str, Any], stack: str) -> list[Finding]:
    with warnings.catch_warnings():  # parliament imports the deprecated pkg_resources
        warnings.simplefilter("ignore")
        from parliament import analyze_policy_string

    region = str(doc["provider"]["aws"][0]["region"])
    out = []
    for address, kind, policy in policies(doc):
        analysed = analyze_policy_string(with_placeholders(policy, region), ignore_private_auditors=True)
        out += [Finding(f.issue, kind, stack, address, _detail(f)) for f in analysed.findings]
    return out


def unsuppressed(findings: Sequence[Finding], suppressions: Sequence[Suppression]) -> list[Finding]:
    return [f for f in findings if not any(s.matches(f) for s in suppressions)]


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.iam_lint", description=__doc__.splitlines()[0])
    parser.add_argument("stack_json", type=Path, nargs="+", help="cdktf.out/stacks/<stack>/cdk.tf.json")
    args = parser.parse_args(argv)
    suppressions = load_suppressions()
    failing: list[Finding] = []
    for path in args.stack_json:
        failing += unsuppressed(lint(json.loads(path.read_text()), path.parent.name), suppressions)
    for finding in failing:
        print(finding)
    print(f"iam lint: {len(failing)} unsuppressed finding(s) in {len(args.stack_json)} stack(s)")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
