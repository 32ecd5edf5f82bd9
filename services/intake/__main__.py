from services.intake.app import create_app
from services.intake.db import TABLES
from services.intake.settings import IntakeSettings
from shared.cli import main_for

main_for(IntakeSettings, create_app, TABLES)
