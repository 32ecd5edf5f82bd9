from services.claims.app import create_app
from services.claims.db import TABLES
from services.claims.settings import ClaimsSettings
from shared.cli import main_for

main_for(ClaimsSettings, create_app, TABLES)
