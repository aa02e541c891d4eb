"""The page is served with a Content-Security-Policy (ui/guards.py) that the app's own scripts and Gradio's
need, and with frame-ancestors that let Hugging Face Spaces embed it and nobody else.

In headless Chromium: the page works through its tabs, sliders, random draw and upload with no
policy violation, and a page at https://huggingface.co (played by Playwright's routing) shows the app
in a frame while a page of another site is refused it.
"""

import httpx
import pytest
from browser_waits import src_at, wait_shown, wait_until
from conftest import CHROMIUM, CHROMIUM_ARGS, open_context
from hostile import wait_for
from PIL import Image, ImageDraw
from playwright.sync_api import Error as PlaywrightError

from ui.guards import CONTENT_SECURITY_POLICY, FRAME_ANCESTORS

pytestmark = pytest.mark.browser
WAIT_MS = 120_000  # a deadline that detects a hang, not a speed claim
# Records every policy violation the page reports, from before its first script runs.
RECORD_VIOLATIONS = """
window.llViolations = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.llViolations.push(`${e.violatedDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`));
"""


def test_every_answer_carries_the_policy_with_the_spaces_frame_ancestors(live_app):
    with httpx.Client(base_url=live_app, timeout=120) as client:
        for path in ("/", "/config", "/gradio_api/info", "/latent-lab/static/latent_lab.js", "/no-such-page"):
            policy = client.get(path).headers.get("content-security-policy", "")
            assert policy == CONTENT_SECURITY_POLICY, (path, policy)
    ancestors = next(d for d in CONTENT_SECURITY_POLICY.split("; ") if d.startswith("frame-ancestors")).split()[1:]
    assert set(ancestors) == {"'self'", "https://huggingface.co", "https://*.hf.space"} == set(FRAME_ANCESTORS)


def use_every_tab(page, digit):
    """Draw at random, upload `digit`, write a digit and open the Train tab, waiting for each answer."""
    wait_shown(page.locator("#ll-digit-box img.ll-digit"), "the decoded digit")
    wait_shown(page.locator("#ll-map img"), "the latent map's picture", state="attached")
    before = page.locator("#ll-digit-box img.ll-digit").get_attribute("src")
    page.click("#ll-random")
    wait_until(page, "(before) => document.querySelector('#ll-digit-box img.ll-digit')?.getAttribute('src') "
               "!== before", "a new digit after Random sample", arg=before, last=src_at("#ll-digit-box img.ll-digit"))
    page.locator("#ll-upload-section").get_by_role("tab", name="Upload").click()
    page.locator("#ll-upload input[type=file]").set_input_files(str(digit))
    wait_shown(page.locator("#ll-model-saw img"), "what the model sees of the uploaded digit")
    page.get_by_role("tab", name="Write").click()
    wait_shown(page.locator("#ll-write-go"), "the Write tab's Write button")
    page.click("#ll-write-go")
    wait_shown(page.locator("#ll-write-digit img"), "the written digit")
    page.get_by_role("tab", name="Train").click()
    wait_shown(page.locator("[id^=train-]").first, "the Train tab's form")


def test_the_page_works_through_its_tabs_with_no_policy_violation(browser, live_app, tmp_path):
    digit = tmp_path / "digit.png"
    seven = Image.new("L", (96, 96), 255)
    ImageDraw.Draw(seven).line([(20, 20), (76, 20), (40, 80)], fill=0, width=8)
    seven.save(digit)
    context = open_context(browser, viewport={"width": 1400, "height": 1000})
    context.add_init_script(RECORD_VIOLATIONS)
    console = []
    page = context.new_page()
    page.on("console", lambda message: console.append(message.text))
    try:
        page.goto(live_app)
        try:
            use_every_tab(page, digit)
        except PlaywrightError as error:  # a page the policy broke stops somewhere: say what it refused
            raise AssertionError(f"the page stopped ({error.message.splitlines()[0]}); policy violations: "
                                 f"{page.evaluate('() => window.llViolations')}") from None
        violations = page.evaluate("() => window.llViolations")
    finally:
        context.close()
    refused = [text for text in console if "Content Security Policy" in text]
    assert not violations and not refused, f"policy violations: {violations} {refused}"


SPACE_PAGE = '<html><body><iframe id="app" src="{url}" width="1200" height="900"></iframe></body></html>'


@pytest.fixture(scope="module")
def framing_browser(browser):
    """Chromium that lets a public page frame a local address: it refuses that by itself (Local Network
    Access), which would hide what the app's own policy allows."""
    local = browser.browser_type.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,"
                        "PrivateNetworkAccessForNavigations,PrivateNetworkAccessForIframes"])
    yield local
    local.close()


def framed_by(browser, live_app, parent: str) -> tuple[bool, list[str]]:
    """Open `parent` (a page Playwright serves, holding an iframe of the app); return (whether the app's
    page loaded in the frame, the parent page's console messages)."""
    context = open_context(browser)
    context.route(f"{parent}**", lambda route: route.fulfill(
        status=200, content_type="text/html", body=SPACE_PAGE.format(url=live_app + "/")))
    console = []
    page = context.new_page()
    page.on("console", lambda message: console.append(message.text))
    try:
        page.goto(parent, timeout=WAIT_MS)
        frame = page.frame_locator("#app")
        refused = lambda: any("frame-ancestors" in text for text in console)  # noqa: E731
        shown = lambda: frame.locator("gradio-app").count() > 0  # noqa: E731
        wait_for(lambda: refused() or shown(), f"the app's page or a refusal in a frame of {parent}",
                 timeout_s=120, last=lambda: console[-3:])
        if shown():
            wait_shown(frame.locator("#ll-digit-box img.ll-digit"), "the decoded digit inside the frame")
        return shown(), console
    finally:
        context.close()


def test_a_huggingface_space_may_frame_the_page_and_another_site_may_not(framing_browser, live_app):
    shown, console = framed_by(framing_browser, live_app, "https://huggingface.co/spaces/someone/latent-lab")
    assert shown, f"a Space's page could not frame the app: {console[-5:]}"
    shown, console = framed_by(framing_browser, live_app, "https://elsewhere.example/")
    assert not shown and any("frame-ancestors" in text for text in console), console[-5:]
