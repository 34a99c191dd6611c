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
