import sys

from services.coding.app import create_app
from services.coding.db import TABLES
from services.coding.settings import CodingSettings
from shared.cli import main_for

if len(sys.argv) > 1 and sys.argv[1] == "validate":
    from services.coding.validate_cli import main

    sys.exit(main(sys.argv[1:]))
main_for(CodingSettings, create_app, TABLES)
