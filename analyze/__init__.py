"""`EcgRecord` → measurements and rule-based findings."""
