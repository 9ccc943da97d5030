"""One send path: only the send service (smsportal/messaging/sending.py) creates `Message` or
`Delivery` rows. Found by reading the source (ast), so a new module that creates them itself
fails here, whatever it is called."""

from __future__ import annotations

import ast
from pathlib import Path

import smsportal

SEND_SERVICE = Path(smsportal.__file__).parent / "messaging" / "sending.py"
MODELS = {"Message", "Delivery"}
CREATING = {"create", "bulk_create", "get_or_create", "update_or_create"}


def creations(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) of every `Message(...)`, `Delivery(...)` and `Message.objects.create(...)`
    (or bulk_create, get_or_create, update_or_create) in `tree`, by name or attribute."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in MODELS:
            found.append((node.lineno, f"{name}(...)"))
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in CREATING
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "objects"
        ):
            owner = func.value.value
            model = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
            if model in MODELS:
                found.append((node.lineno, f"{model}.objects.{func.attr}(...)"))
    return found


def test_only_the_send_service_creates_messages_and_deliveries():
    root = SEND_SERVICE.parents[1]
    offenders = [
        f"{path.relative_to(root.parent)}:{line}: {what}"
        for path in sorted(root.rglob("*.py"))
        if path != SEND_SERVICE and "migrations" not in path.parts
        for line, what in creations(ast.parse(path.read_text(), str(path)))
    ]
    hint = "Create messages with messaging.sending.prepare and send:\n"
    assert offenders == [], hint + "\n".join(offenders)


def test_the_search_finds_every_way_of_creating_them():
    # The search would find what it is meant to find (so the test above can fail).
    source = """
Message(account=a)
models.Delivery(message=m)
Message.objects.create(account=a)
Delivery.objects.bulk_create(rows)
messaging.models.Message.objects.get_or_create(pk=1)
DeliveryEvent.objects.create(delivery=d)
Message.objects.filter(pk=1).update(status="done")
"""
    assert [what for _line, what in creations(ast.parse(source))] == [
        "Message(...)",
        "Delivery(...)",
        "Message.objects.create(...)",
        "Delivery.objects.bulk_create(...)",
        "Message.objects.get_or_create(...)",
    ]
    assert creations(ast.parse(SEND_SERVICE.read_text()))  # the service itself does create them
