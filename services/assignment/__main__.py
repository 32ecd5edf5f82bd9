from services.assignment.app import create_app
from services.assignment.db import TABLES
from services.assignment.settings import AssignmentSettings
from shared.cli import main_for

main_for(AssignmentSettings, create_app, TABLES)
