"""Demo contacts: a few hundred people on two lists, created once, for `make run`: Sales' contacts
on its list "Staff", shared with every department, and Support's on "Support team" (the demo
departments are made just before, departments/demo.py)."""

from __future__ import annotations

FIRST = ["Ali", "Sara", "Omar", "Fatima", "Yousef", "Noor", "Hamad", "Mariam", "Khalid", "Dana"]
DEPARTMENTS = ["Sales", "Support", "Operations"]
LAST = ["Al-Sabah", "Haddad", "Rahman", "Nasser", "Karim", "Saleh", "Mansour", "Aziz"]


def create_demo_contacts() -> list[str]:
    # Models imported when the step runs, as the app's own are (this module loads in ready()).
    from smsportal.departments.models import Department

    from .models import Contact, ContactList

    if Contact.objects.exists():
        return []
    owners = {d.name: d for d in Department.objects.filter(name__in=["Sales", "Support"])}
    sales, support_department = owners.get("Sales"), owners.get("Support")
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                phone=f"+9659{7100000 + i:07d}",
                name=(name := f"{FIRST[i % len(FIRST)]} {LAST[i % len(LAST)]}"),
                name_key=Contact.key_of(name),
                attributes=(attributes := {"department": DEPARTMENTS[i % 3]}),
                measures=Contact.measures_of(f"+9659{7100000 + i:07d}", name, "", attributes),
                department=support_department if i % 3 == 1 else sales,
            )
            for i in range(300)
        ]
    )
    staff, _ = ContactList.objects.get_or_create(
        name="Staff",
        department=sales,
        defaults={"description": "Sales' contacts, shared with everyone (demo).", "shared": True},
    )
    staff.add([c.pk for c in contacts if c.department == sales])
    support, _ = ContactList.objects.get_or_create(
        name="Support team",
        department=support_department,
        defaults={"description": "The support department (demo)."},
    )
    support.add([c.pk for c in contacts if c.attributes["department"] == "Support"])
    return ["300 demo contacts on the lists “Staff” (Sales, shared) and “Support team”."]
