"""Forms as the server wrote them, read from the HTML source, to find what a browser gets wrong.

A browser's HTML parser drops a `<form>` tag met inside another form: the inner form's fields
and buttons then belong to the outer one (so a hidden `account` of a Refresh form joined the
compose form, and Django took its value). The DOM can no longer show it; the source can. This
parser keeps every form tag, nested or not, and says which form each control was written in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

CONTROLS = {"input", "select", "textarea", "button"}
# A name shared by several of these in one form is normal: a radio group, a set of checkboxes,
# several submit buttons each giving `action` its own value.
GROUPABLE = {"radio", "checkbox", "submit", "image"}
SUBMITS = {"submit", "image"}


@dataclass
class Control:
    tag: str
    type: str
    name: str
    line: int
    label: str = ""
    formaction: str | None = None


@dataclass
class Form:
    action: str
    method: str
    id: str
    line: int
    parent: Form | None = None
    controls: list[Control] = field(default_factory=list)

    def describe(self) -> str:
        ident = f"#{self.id} " if self.id else ""
        return f"form {ident}(action {self.action or '(this page)'!r}, line {self.line})"

    def submit_buttons(self) -> list[Control]:
        return [c for c in self.controls if c.type in SUBMITS]


class FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.open: list[Form] = []
        self.by_id: dict[str, Form] = {}
        self.pending: list[tuple[str, Control]] = []  # controls with form="id", resolved at end
        self.button: Control | None = None
        self.skip_depth = 0  # inside <template> or <script>: not part of the page as parsed

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag in ("template", "script"):
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        line = self.getpos()[0]
        if tag == "form":
            form = Form(
                action=a.get("action", ""),
                method=a.get("method", "get").lower(),
                id=a.get("id", ""),
                line=line,
                parent=self.open[-1] if self.open else None,
            )
            self.forms.append(form)
            self.open.append(form)
            if form.id:
                self.by_id[form.id] = form
            return
        if tag not in CONTROLS:
            return
        kind = a.get("type", "").lower() or {"input": "text", "button": "submit"}.get(tag, tag)
        control = Control(tag, kind, a.get("name", ""), line, formaction=a.get("formaction"))
        if tag == "input" and kind in SUBMITS:
            control.label = a.get("value", "") or a.get("aria-label", "")
        elif tag == "button":
            control.label = a.get("aria-label", "")
            self.button = control
        if "form" in a:
            self.pending.append((a["form"], control))
        elif self.open:
            self.open[-1].controls.append(control)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("template", "script"):
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if tag == "form" and self.open:
            self.open.pop()
        elif tag == "button":
            self.button = None

    def handle_data(self, data: str) -> None:
        if self.button is not None and not self.skip_depth:
            self.button.label = " ".join(f"{self.button.label} {data}".split())

    def close(self) -> None:
        super().close()
        for form_id, control in self.pending:
            if form_id in self.by_id:
                self.by_id[form_id].controls.append(control)


def parse_forms(html: str) -> list[Form]:
    parser = FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def form_problems(html: str) -> list[str]:
    """Every form nested in another, and every field name used twice in one form (other than a
    radio group, checkboxes or submit buttons) — in words a failing test can print."""
    problems = []
    for form in parse_forms(html):
        if form.parent is not None:
            problems.append(f"{form.describe()} is inside {form.parent.describe()}")
        kinds: dict[str, list[str]] = defaultdict(list)
        for control in form.controls:
            if control.name:
                kinds[control.name].append(control.type)
        for name, types in kinds.items():
            if len(types) > 1 and not (len(set(types)) == 1 and types[0] in GROUPABLE):
                problems.append(
                    f"{form.describe()} has {len(types)} fields named {name!r} ({', '.join(types)})"
                )
    return problems


def authored_destinations(html: str, page_url: str) -> dict[str, set[str]]:
    """Submit button label -> the absolute URLs the forms it was written in post to."""
    found: dict[str, set[str]] = defaultdict(set)
    for form in parse_forms(html):
        for button in form.submit_buttons():
            target = button.formaction if button.formaction is not None else form.action
            found[button.label].add(urljoin(page_url, target or page_url).split("#")[0])
    return found
