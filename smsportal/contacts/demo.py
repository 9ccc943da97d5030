"""Demo contacts: a few hundred people on two lists, created once, for `make run`."""

from __future__ import annotations

FIRST = ["Ali", "Sara", "Omar", "Fatima", "Yousef", "Noor", "Hamad", "Mariam", "Khalid", "Dana"]
DEPARTMENTS = ["Sales", "Support", "Operations"]
LAST = ["Al-Sabah", "Haddad", "Rahman", "Nasser", "Karim", "Saleh", "Mansour", "Aziz"]


def create_demo_contacts() -> list[str]:
    from .models import Contact, ContactList

    if Contact.objects.exists():
        return []
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                phone=f"+9659{7100000 + i:07d}",
                name=(name := f"{FIRST[i % len(FIRST)]} {LAST[i % len(LAST)]}"),
                name_key=Contact.key_of(name),
                attributes=(attributes := {"department": DEPARTMENTS[i % 3]}),
                measures=Contact.measures_of(f"+9659{7100000 + i:07d}", name, "", attributes),
            )
            for i in range(300)
        ]
    )
    staff, _ = ContactList.objects.get_or_create(
        name="Staff", defaults={"description": "Everyone (demo)."}
    )
    staff.add([c.pk for c in contacts])
    support, _ = ContactList.objects.get_or_create(
        name="Support team", defaults={"description": "The support department (demo)."}
    )
    support.add([c.pk for c in contacts if c.attributes["department"] == "Support"])
    return ["300 demo contacts on the lists “Staff” and “Support team”."]
