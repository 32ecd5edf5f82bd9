import sys

from services.intake.app import create_app
from services.intake.db import TABLES
from services.intake.settings import IntakeSettings
from shared.cli import main_for

if sys.argv[1:2] == ["push"]:
    from services.intake.push_cli import main

    sys.exit(main(sys.argv[2:]))
main_for(IntakeSettings, create_app, TABLES)
