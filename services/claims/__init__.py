"""Claims: coded encounters become X12 837P/837I claims, scrubbed and tracked to payment."""

SERVICE = "claims"
