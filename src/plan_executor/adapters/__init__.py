"""One module per outside system; SDK types stop here."""
