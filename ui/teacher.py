"""A teacher leads the class: a page opened with the host's teacher key sends its view, every other page may follow.

The host sets a key (LATENT_LAB_TEACHER_KEY, read by app.py); without one nobody can send. A page opened
with ?teacher=KEY (ui/static/lesson.js keeps the key out of the address bar and of shared links) sends
its view: the link of what it shows (ui/lesson.parse_state's form: tab, model, z, panel) and the lesson
step. The server keeps only the newest view and a counter; students' pages ask for it every few
seconds with the counter they have, and get the view only when it is new. No accounts, and nothing
about students is kept.

    POST /latent-lab/teacher/check   {"key"}                            200, or 403 with a sentence
    POST /latent-lab/teacher/view    {"key", "link", "lesson", "step"}  200 {"serial"}, or 4xx with a sentence
    GET  /latent-lab/teacher/view?since=N                               {"enabled", "serial", "view" when newer than N}
"""

import hashlib
import hmac
import json
import threading

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import i18n
from ui.language import request_language
from ui.lesson import NAME, PREFIX, parse_state

VIEW_URL = f"{PREFIX}/teacher/view"
CHECK_URL = f"{PREFIX}/teacher/check"
MAX_BODY_BYTES = 4096  # a view is a link of at most 1,000 characters and a few small fields
MAX_KEY_CHARS = 200
MAX_STEP = 100
POLL_SECONDS = 4  # how often a student's page asks for a new view (sent to the page)


class NotAllowed(PermissionError):
    """A refused teacher key; str() is its sentence in the current language (each route answers in its caller's)."""

    def __init__(self, key: str):
        super().__init__(i18n.Text(key))


def check_view(payload) -> dict:
    """Return the view a teacher sends ({"link", "lesson", "step"}) checked like any untrusted input; ValueError otherwise."""
    if not isinstance(payload, dict):
        raise i18n.Sentence("teacher.view_object")
    link = payload.get("link", "")
    try:
        parse_state(link)
    except ValueError as error:
        raise i18n.Sentence("teacher.link_unusable", problem=error) from None
    view = {"link": link, "lesson": None, "step": None}
    lesson, step = payload.get("lesson"), payload.get("step")
    if lesson is not None:
        if not isinstance(lesson, str) or not NAME.fullmatch(lesson):
            raise i18n.Sentence("teacher.lesson_name")
        if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step < MAX_STEP:
            raise i18n.Sentence("teacher.step", most=MAX_STEP - 1)
        view.update(lesson=lesson, step=step)
    return view


class TeacherChannel:
    """The newest view a teacher sent, and the key that allows sending (empty: nobody can send)."""

    def __init__(self, key: str = ""):
        key = (key or "").strip()
        # Compared as digests, so the comparison takes the same time whatever the length of a guess.
        self._digest = hashlib.sha256(key.encode()).digest() if key else None
        self._lock = threading.Lock()
        self._serial = 0
        self._view = None

    @property
    def enabled(self) -> bool:
        """Return whether the host set a teacher key."""
        return self._digest is not None

    def authorize(self, key) -> None:
        """Return None when `key` is the teacher key; NotAllowed (a PermissionError) otherwise (compared in constant time)."""
        if self._digest is None:
            raise NotAllowed("teacher.no_key")
        given = key if isinstance(key, str) and len(key) <= MAX_KEY_CHARS else ""
        if not hmac.compare_digest(hashlib.sha256(given.encode()).digest(), self._digest):
            raise NotAllowed("teacher.wrong_key")

    def send(self, key, payload) -> int:
        """Return the new view's serial number after keeping `payload` as the class's view; PermissionError or ValueError."""
        self.authorize(key)
        view = check_view(payload)
        with self._lock:
            self._serial += 1
            self._view = view
            return self._serial

    def latest(self, since: int = 0) -> dict:
        """Return {"enabled", "serial", "poll_s"} and the view when it is newer than `since`."""
        with self._lock:
            answer = {"enabled": self.enabled, "serial": self._serial, "poll_s": POLL_SECONDS}
            if self._view is not None and self._serial != since:
                answer["view"] = dict(self._view)
            return answer

    def routes(self) -> list[Route]:
        """Return the Starlette routes of the channel (check a key, send a view, ask for the newest)."""
        async def body_of(request: Request) -> dict:
            if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
                raise i18n.Sentence("teacher.too_large", limit=MAX_BODY_BYTES)
            data = b""
            async for chunk in request.stream():
                data += chunk
                if len(data) > MAX_BODY_BYTES:
                    raise i18n.Sentence("teacher.too_large", limit=MAX_BODY_BYTES)
            try:
                body = json.loads(data or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise i18n.Sentence("teacher.not_json") from None
            if not isinstance(body, dict):
                raise i18n.Sentence("teacher.not_object")
            return body

        def refusal(request: Request, error: Exception, status: int) -> Response:
            with i18n.speaking(request_language(request)):
                return JSONResponse({"error": str(error)}, status_code=status)

        async def check(request: Request) -> Response:
            try:
                self.authorize((await body_of(request)).get("key"))
            except PermissionError as error:
                return refusal(request, error, 403)
            except ValueError as error:
                return refusal(request, error, 400)
            return JSONResponse({"ok": True})

        async def view(request: Request) -> Response:
            if request.method == "GET":
                since = request.query_params.get("since", "0")
                answer = self.latest(int(since) if since.isdigit() and len(since) < 12 else 0)
                return JSONResponse(answer, headers={"Cache-Control": "no-store"})
            try:
                body = await body_of(request)
                serial = self.send(body.get("key"), body)
            except PermissionError as error:
                return refusal(request, error, 403)
            except ValueError as error:
                return refusal(request, error, 400)
            return JSONResponse({"serial": serial})

        return [Route(CHECK_URL, check, methods=["POST"]), Route(VIEW_URL, view, methods=["GET", "POST"])]
