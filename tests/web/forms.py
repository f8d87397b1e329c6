"""Fill in a page's form the way a browser would: what the page shows is what gets posted (ticked checkboxes,
chosen options, hidden inputs), then the test changes what a user would change."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class _FormReader(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.values: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_values: list[str] = []
        self._first_option: str | None = None
        self._multiple = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
            return
        if not self.inside or "disabled" in a:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.values.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button"):
                self.values.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select, self._select_values, self._first_option = a.get("name"), [], None
            self._multiple = "multiple" in a
        elif tag == "option" and self._select is not None:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self._select_values.append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            # A single select always sends a value (the first option when none is selected); a multiple one
            # sends only what is selected.
            chosen = self._select_values or ([] if self._multiple or self._first_option is None
                                             else [self._first_option])
            self.values.extend((self._select, value) for value in chosen)
            self._select = None


class BrowserForm:
    def __init__(self, html: str, form_id: str) -> None:
        reader = _FormReader(form_id)
        reader.feed(html)
        self.values = reader.values

    def tick(self, *names: str) -> BrowserForm:
        for name in names:
            if (name, "y") not in self.values:
                self.values.append((name, "y"))
        return self

    def untick(self, *names: str) -> BrowserForm:
        self.values = [(k, v) for k, v in self.values if k not in names]
        return self

    def set(self, **fields: Any) -> BrowserForm:
        for name, value in fields.items():
            self.values = [(k, v) for k, v in self.values if k != name]
            if value is not None:
                self.values.append((name, str(value)))
        return self

    def get(self, name: str) -> str | None:
        return next((v for k, v in self.values if k == name), None)

    def data(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in self.values:
            result.setdefault(key, []).append(value)
        return {k: v[0] if len(v) == 1 else v for k, v in result.items()}
