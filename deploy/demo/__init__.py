"""The demo scenario: seed a hospital, a vendor pool, a coder and a payer, then code encounters."""
