"""Arabic number formats as the Gulf writes them with Latin or Arabic-Indic digits: a point
for decimals and a comma between thousands (Django's own Arabic formats put a comma for
decimals, which beside the humanize comma made 12,345.50 read "12,345,50")."""

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3

# A date and time written without a format of its own (the profile's last log-in): Django's
# Arabic formats have none, so it fell back to the English "N j, Y, P" ("ديسمبر 2, 2026, 7:06
# ص"). The day first and the Arabic comma, as Django's Arabic DATE_FORMAT writes a date.
DATETIME_FORMAT = "j F Y، H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
