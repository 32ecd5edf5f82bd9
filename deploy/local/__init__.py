"""Run the platform as local processes: see stack.py and README.md."""
