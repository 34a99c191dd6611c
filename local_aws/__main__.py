import sys

from local_aws.server import main

sys.exit(main(sys.argv[1:]))
