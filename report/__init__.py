"""The report model, its JSON form and the PDF."""
