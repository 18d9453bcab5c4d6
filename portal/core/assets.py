"""Static files under fingerprinted URLs, cached by browsers for a year.

Every file in `static/` gets a second name with a hash of its content before the
last suffix: `css/portal.css` is also `css/portal.3f9c2a71b0de.css`. Templates
ask for the URL with `{{ static_url('css/portal.css') }}`, so a page always names
the content it was rendered with; a changed file gets a new URL, so browsers may
keep the old one for a year (`immutable`) and never revalidate it. The plain
name keeps working with a short cache (for links from outside the pages); a hash
that is not the current one is a 404, never a stale or a wrong file.

The names are computed once, when the app starts (a changed file needs a
restart to get its new URL, as in production, where files change only with a
release).
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

from litestar import Request, route
from litestar.enums import HttpMethod
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File

HASH_LENGTH = 12
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=3600"


def fingerprinted_name(path: str, content: bytes) -> str:
    """`"css/portal.css"`, its bytes → `"css/portal.<12 hex digits of SHA-256>.css"`.

    The hash goes before the last suffix so the name keeps its type
    (`vendor/htmx-2.0.11.min.js` → `vendor/htmx-2.0.11.min.<hash>.js`)."""
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    pure = PurePosixPath(path)
    name = f"{pure.stem}.{digest}{pure.suffix}" if pure.suffix else f"{pure.name}.{digest}"
    return str(pure.with_name(name))


class Assets:
    """The files of one static directory and their fingerprinted names.

    `url()` is what templates use; `resolve()` is what the static route serves.
    Raises `OSError` at construction if the directory cannot be read."""

    def __init__(self, directory: Path, prefix: str = "/static/") -> None:
        self.directory = directory.resolve()
        self.prefix = prefix
        self._files: dict[str, Path] = {}  # plain name -> file
        self._urls: dict[str, str] = {}  # plain name -> fingerprinted URL
        self._fingerprinted: dict[str, str] = {}  # fingerprinted name -> plain name
        for file in sorted(self.directory.rglob("*")):
            relative = file.relative_to(self.directory)
            if not file.is_file() or any(part.startswith(".") for part in relative.parts):
                continue
            plain = relative.as_posix()
            fingerprinted = fingerprinted_name(plain, file.read_bytes())
            self._files[plain] = file
            self._fingerprinted[fingerprinted] = plain
            self._urls[plain] = prefix + fingerprinted

    def url(self, path: str) -> str:
        """The fingerprinted URL of `path` (relative to the static directory, e.g.
        `"css/portal.css"` → `"/static/css/portal.<hash>.css"`).

        Raises `LookupError` for a file that does not exist: a page that names a
        missing file fails in its tests instead of linking to a 404."""
        try:
            return self._urls[path]
        except KeyError:
            raise LookupError(f"no static file {path!r} in {self.directory}") from None

    def resolve(self, name: str) -> tuple[Path, bool] | None:
        """The file a request for `name` (the path after the prefix) gets, and whether
        it may be cached for good (a current fingerprinted name); None → 404."""
        if name in self._fingerprinted:
            return self._files[self._fingerprinted[name]], True
        if name in self._files:
            return self._files[name], False
        return None


@route("/static/{file_path:path}", http_method=[HttpMethod.GET, HttpMethod.HEAD],
       name="static", include_in_schema=False, sync_to_thread=False)
def static_file(request: Request, file_path: FromPath[str]) -> File:
    """A static file by its fingerprinted name (cached for a year) or its plain name
    (cached for an hour); anything else is the plain 404 page."""
    found = request.app.state.assets.resolve(file_path.lstrip("/"))
    if found is None:
        raise NotFoundException()
    path, immutable = found
    return File(path=path, filename=path.name, content_disposition_type="inline",
                headers={"cache-control": IMMUTABLE if immutable else SHORT})


route_handlers = [static_file]
