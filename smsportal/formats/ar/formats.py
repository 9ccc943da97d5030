"""Arabic number formats as the Gulf writes them with Latin or Arabic-Indic digits: a point
for decimals and a comma between thousands (Django's own Arabic formats put a comma for
decimals, which beside the humanize comma made 12,345.50 read "12,345,50")."""

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
