"""The SMS vocabulary, at the bottom of the layers: what any part of the portal may say about a
text message without knowing about accounts, contacts or deliveries stored in the database.

- `encoding`: alphabets (GSM-7, UCS-2), parts and their limits, look-alike replacement.
- `status`: the delivery statuses, their labels and colours.
- `phones`: parsing, validating and formatting phone numbers.
- `placeholders`: `{first_name|Customer}` in a text, parsed and rendered for one recipient.

It imports nothing from the portal's apps; every app (the provider backends first) imports it.
import-linter keeps it so (see `[tool.importlinter]` in pyproject.toml).
"""
