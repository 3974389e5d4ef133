"""The exception tree, and the record of a problem found in content.

    SiteBuilderError            anything site-builder reports without a traceback
     ├── ConfigError            [tool.site_builder] has an unknown key or a wrong type
     ├── TemplateError          a template failed to compile or render (names file and line)
     └── BuildError             the build could not finish (output folder locked, ...)

Content problems are not exceptions: every one is collected as a ContentError
record, the build goes on with the good files, and they are printed together.
"""

from __future__ import annotations

from dataclasses import dataclass


class SiteBuilderError(Exception):
    """Base class: printed as a one-line message, never as a traceback."""


class ConfigError(SiteBuilderError):
    def __init__(self, key: str, message: str, path: str = "pyproject.toml") -> None:
        self.key, self.message, self.path = key, message, path
        super().__init__(f"{path}: [tool.site_builder] {key}: {message}")

    def __reduce__(self):
        return (ConfigError, (self.key, self.message, self.path))


class TemplateError(SiteBuilderError):
    def __init__(self, template: str, line: int | None, message: str) -> None:
        self.template, self.line, self.message = template, line, message
        where = f"{template}:{line}" if line else template
        super().__init__(f"{where}: {message}")

    def __reduce__(self):  # raised in a forked render worker, it must cross back to the parent whole
        return (TemplateError, (self.template, self.line, self.message))


class BuildError(SiteBuilderError):
    """The build stopped; the previous site in the output folder is untouched."""


@dataclass(frozen=True, slots=True)
class ContentError:
    """One problem in one content file, printed as `path:line: field: message`."""

    path: str
    line: int
    message: str
    field: str | None = None
    warning: bool = False

    def __str__(self) -> str:
        field = f"{self.field}: " if self.field else ""
        kind = "warning: " if self.warning else ""
        return f"{self.path}:{self.line}: {kind}{field}{self.message}"
