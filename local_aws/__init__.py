"""The embedded AWS emulator: moto's server on loopback plus documented shims."""

#: The account moto serves when nothing names another (its default): what names are
#: built for on the local target when the settings name no account.
EMULATOR_ACCOUNT_ID = "123456789012"

#: Credentials for the emulator, written once: moto accepts any, and these are
#: never valid on AWS, so nothing configured for the emulator can reach an account.
ACCESS_KEY_ID = "test"
SECRET_ACCESS_KEY = "test"  # noqa: S105 - the emulator's dummy, documented above
#: As environment variables (terraform, the AWS CLI) ...
CREDENTIALS_ENV = {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY}
#: ... and as boto3 client arguments.
CLIENT_CREDENTIALS = {"aws_access_key_id": ACCESS_KEY_ID, "aws_secret_access_key": SECRET_ACCESS_KEY}
#: What stands in for the team's account before the platform (local_aws/prerequisites.py) signs
#: with its own key, so the recorded calls of CI's roles (local_aws/call_log.py) never include it.
PREREQUISITE_CREDENTIALS = {"aws_access_key_id": "emulator-prerequisite", "aws_secret_access_key": "test"}
#: The administrator's key on the emulator: the access stack (CI's own roles) is applied with it,
#: as an administrator applies it on AWS, so its calls are not counted as a CI role's.
ADMIN_ACCESS_KEY_ID = "emulator-administrator"
#: A function run by the emulator (shim 12) signs with its own key: its role's calls, not a CI role's.
FUNCTION_ACCESS_KEY_ID = "emulator-function"
