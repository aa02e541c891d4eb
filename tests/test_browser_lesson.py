"""The guided lesson, the glossary and the teacher's shared view in headless Chromium.

Screenshots of the lesson at 1280x720, 390x844 and in presentation mode go to test-artifacts/
(lesson-1280.png, lesson-phone.png, lesson-presentation.png, glossary.png).
"""

import contextlib

import pytest
from PIL import Image
from conftest import free_port, open_context

from test_browser_explore import upload

pytestmark = pytest.mark.browser

WAIT = 90_000  # ms: every Playwright wait here has this deadline
LAPTOP = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}
TEACHER_KEY = "test-teacher-key-7"
EIGHT = [0.18, 0.2, 0.06, 0.26, 0.01, 0.23, 0.41, -0.34, 0.23, -0.07, 0.09, -0.41, 1.25, -0.46, -0.93, 0.14,
         -0.05, -0.08, 0.02, -0.52]  # vae-mnist's centroid of the 8s, rounded: the reader says 8


@contextlib.contextmanager
def opened(browser, url, viewport, **options):
    """A page of its own session on `url` at `viewport`, with the explorer's first answer on it."""
    context = open_context(browser, viewport=viewport, **options)
    context.set_default_timeout(WAIT)  # a click on a missing button fails with its name, never hangs
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("() => window.llLive && window.llLive.answered", timeout=WAIT)
        yield page
    finally:
        context.close()


def within(page, selector, viewport) -> bool:
    """True when the element is visible and wholly inside the first screen."""
    box = page.locator(selector).first.bounding_box(timeout=WAIT)
    return (box is not None and box["width"] > 0 and box["x"] >= 0 and box["y"] >= 0
            and box["x"] + box["width"] <= viewport["width"] + 1 and box["y"] + box["height"] <= viewport["height"] + 1)


def done(page):
    page.wait_for_function("() => document.querySelector('#ll-lesson-status').textContent.includes('Done!')",
                           timeout=WAIT)


def step_title(page) -> str:
    return page.locator("#ll-lesson-title").inner_text(timeout=WAIT)


def type_code(page, z):
    """Put code z on the sliders as typed values and let go, as a person typing in the boxes would."""
    page.evaluate("""(z) => {
      const G = window.llGradio, f = document.querySelector('#ll-digit-box .ll-digit-frame');
      let last = null;
      f.dataset.order.split(',').forEach((d, slot) => {
        const s = document.querySelector('#ll-z' + slot);
        G.typeInSliderBox(G.sliderBox(s), z[Number(d)]); last = G.sliderRange(s);
      });
      setTimeout(() => G.releaseSlider(last), 0);
    }""", z)


def test_the_lesson_at_1280x720_its_checks_and_the_glossary(browser, live_app, artifacts):
    with opened(browser, live_app, LAPTOP) as page:
        page.wait_for_selector("#ll-lesson-start", timeout=WAIT)
        assert within(page, "#ll-lesson-start", LAPTOP) and within(page, "#ll-lesson-go", LAPTOP)
        page.screenshot(path=str(artifacts / "lesson-start-1280.png"))
        # Keyboard only: the start button is reached and pressed with the keyboard.
        page.focus("#ll-lesson-go")
        page.keyboard.press("Enter")
        page.wait_for_selector("#ll-lesson-dock", timeout=WAIT)
        assert step_title(page) == "A picture is a code of 20 numbers"
        assert page.get_by_role("button", name="Next").is_visible()
        assert page.locator("#ll-lesson-status").get_attribute("aria-live") == "polite"
        page.click("#ll-lesson-next")

        # Step 2: move any slider by at least 1 (typed into its box, Enter lets go).
        assert step_title(page) == "Move one number"
        page.wait_for_function("() => window.llLessons.base !== null", timeout=WAIT)
        assert "Done!" not in page.locator("#ll-lesson-status").inner_text()
        box = page.locator("#ll-z0 input[type=number]")
        box.fill("2.5")
        box.press("Enter")
        done(page)
        page.click("#ll-lesson-next")

        # Step 3: its link puts a 3 on the sliders; the check passes once the reader says 8.
        assert step_title(page) == "Turn this 3 into an 8"
        page.wait_for_function("() => document.querySelector('#ll-probs .output-class') && "
                               "document.querySelector('#ll-probs .output-class').textContent.trim() === '3'",
                               timeout=WAIT)
        assert "Done!" not in page.locator("#ll-lesson-status").inner_text()
        type_code(page, EIGHT)
        done(page)
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(artifacts / "lesson-1280.png"))

        # Back goes back; progress survives a reload.
        page.click("#ll-lesson-back")
        assert step_title(page) == "Move one number"
        page.click("#ll-lesson-next")
        page.reload()
        page.wait_for_selector("#ll-lesson-dock", timeout=WAIT)
        assert step_title(page) == "Turn this 3 into an 8"
        assert page.locator("#ll-lesson-start").count() == 0

        # A word of the field opens the glossary at its entry.
        page.get_by_role("button", name="RNN (recurrent neural network)").click()
        page.wait_for_selector("#ll-glossary[open]", timeout=WAIT)
        page.wait_for_function("() => document.activeElement.id === 'll-term-rnn'", timeout=WAIT)
        page.screenshot(path=str(artifacts / "glossary.png"))
        page.keyboard.press("Escape")
        page.wait_for_selector("#ll-glossary:not([open])", state="attached", timeout=WAIT)

        # Next never waits for a check (a teacher may skip); step 9 opens the Write tab, step 10 the Train tab.
        page.click("#ll-glossary-close") if page.locator("#ll-glossary[open]").count() else None
        for _ in range(7):
            page.click("#ll-lesson-next")
        assert page.locator("#ll-lesson-next").inner_text() == "Finish"
        page.wait_for_function("() => document.querySelector('button[role=tab][data-tab-id=train]')"
                               ".getAttribute('aria-selected') === 'true'", timeout=WAIT)
        assert step_title(page) == "Train with your own β"
        page.click("#ll-lesson-back")
        page.wait_for_function("() => document.querySelector('button[role=tab][data-tab-id=write]')"
                               ".getAttribute('aria-selected') === 'true'", timeout=WAIT)
        for _ in range(3):
            page.click("#ll-write-step")
        done(page)


def test_the_lesson_in_chinese_on_a_phone(browser, live_app, artifacts):
    with opened(browser, live_app, PHONE, locale="zh-CN") as page:
        page.wait_for_selector("#ll-lesson-start", timeout=WAIT)
        assert within(page, "#ll-lesson-go", PHONE)
        assert page.locator("#ll-lesson-go").inner_text() == "开始课程"
        page.screenshot(path=str(artifacts / "lesson-start-phone.png"))
        page.click("#ll-lesson-go")
        page.wait_for_selector("#ll-lesson-dock", timeout=WAIT)
        assert step_title(page) == "一张图就是 20 个数的编码"
        assert within(page, "#ll-lesson-next", PHONE)
        page.screenshot(path=str(artifacts / "lesson-phone.png"))
        page.click("#ll-lesson-x")  # hidden, it leaves a button to come back
        page.click("#ll-lesson-pill")
        page.wait_for_selector("#ll-lesson-dock", timeout=WAIT)


def test_the_lesson_in_presentation_mode(browser, live_app, artifacts):
    with opened(browser, live_app + "/?present=1", LAPTOP) as page:
        page.wait_for_selector(".gradio-container.ll-present", timeout=WAIT)
        page.wait_for_selector("#ll-lesson-go", timeout=WAIT)
        assert within(page, "#ll-lesson-go", LAPTOP)
        # The card does not push the projector's one screen down.
        page.wait_for_function("() => document.querySelector('#ll-explore').getBoundingClientRect().top < 60",
                               timeout=WAIT)
        page.click("#ll-lesson-go")
        page.click("#ll-lesson-next")
        page.wait_for_function("() => window.llLessons.base !== null", timeout=WAIT)
        assert within(page, "#ll-lesson-next", LAPTOP)
        assert page.locator(".gradio-container.ll-present").count() == 1
        page.screenshot(path=str(artifacts / "lesson-presentation.png"))


# ---------------------------------------------------------------- the teacher
@pytest.fixture(scope="module")
def class_app(tmp_path_factory):
    """A second app whose host set a teacher key (read from the environment when it is served)."""
    import os

    import app

    os.environ["LATENT_LAB_TEACHER_KEY"] = TEACHER_KEY
    try:
        lab = app.build_app(runs_dir=tmp_path_factory.mktemp("class-runs"), limits=app.limits_from_env())
        app.serve(lab, server_port=free_port(), prevent_thread_lock=True, quiet=True)
    finally:
        del os.environ["LATENT_LAB_TEACHER_KEY"]
    yield lab.blocks.local_url.rstrip("/")
    lab.close()


def test_the_teacher_sends_a_view_and_two_students_follow_or_not(browser, class_app, artifacts):
    with opened(browser, f"{class_app}/?teacher={TEACHER_KEY}", LAPTOP) as teacher, \
            opened(browser, class_app, LAPTOP) as first, opened(browser, class_app, PHONE) as second:
        assert "teacher" not in teacher.url  # the key stays out of the address bar and of shared links
        teacher.wait_for_selector("#ll-teacher-send", timeout=WAIT)
        teacher.click("#ll-lesson-go")
        teacher.click("#ll-lesson-next")
        type_code(teacher, EIGHT)
        teacher.wait_for_function("() => location.search.includes('z=0.18')", timeout=WAIT)
        teacher.click("#ll-teacher-send")
        teacher.wait_for_function("() => document.querySelector('#ll-teacher-note').textContent === 'Sent to the class.'",
                                  timeout=WAIT)
        for student in (first, second):
            student.wait_for_selector("#ll-teacher-follow", timeout=WAIT)
            assert "Your teacher shared a view." in student.locator("#ll-teacher").inner_text()
        first.screenshot(path=str(artifacts / "teacher-shared.png"))
        first.click("#ll-teacher-follow")
        first.wait_for_selector("#ll-lesson-dock", timeout=WAIT)
        assert step_title(first) == "Move one number"
        first.wait_for_function("() => document.querySelector('#ll-probs .output-class').textContent.trim() === '8'",
                                timeout=WAIT)
        second.click("#ll-teacher-dismiss")  # the other student stays where they were
        assert second.locator("#ll-lesson-dock").count() == 0

        # While following, the next view arrives by itself; Leave stops it.
        teacher.click("button[role=tab][data-tab-id=write]")
        teacher.click("#ll-teacher-send")
        first.wait_for_function("() => document.querySelector('button[role=tab][data-tab-id=write]')"
                                ".getAttribute('aria-selected') === 'true'", timeout=WAIT)
        first.click("#ll-teacher-leave")
        teacher.click("button[role=tab][data-tab-id=train]")
        teacher.click("#ll-teacher-send")
        second.wait_for_selector("#ll-teacher-follow", timeout=WAIT)
        first.wait_for_selector("#ll-teacher-follow", timeout=WAIT)  # offered again, not applied
        assert first.evaluate("() => document.querySelector('button[role=tab][data-tab-id=write]')"
                              ".getAttribute('aria-selected')") == "true"


def test_a_wrong_key_gets_a_sentence_and_sends_nothing(browser, class_app, live_app):
    with opened(browser, f"{class_app}/?teacher=guess", LAPTOP) as page:
        page.wait_for_selector("#ll-teacher [role=alert]", timeout=WAIT)
        assert page.locator("#ll-teacher [role=alert]").inner_text() == (
            "That teacher key is wrong: open the page with the key the host set (?teacher=...).")
        assert page.locator("#ll-teacher-send").count() == 0
    with opened(browser, f"{live_app}/?teacher={TEACHER_KEY}", LAPTOP) as page:  # a server with no key
        page.wait_for_selector("#ll-teacher [role=alert]", timeout=WAIT)
        assert "has no teacher key" in page.locator("#ll-teacher [role=alert]").inner_text()


@pytest.fixture(scope="module")
def a_digit(tmp_path_factory, digits):
    """A validation digit as a black-on-white PNG, as a person would upload one."""
    path = tmp_path_factory.mktemp("lesson") / "digit.png"
    Image.fromarray(255 - digits.val_x[1].numpy()).resize((224, 224)).convert("RGB").save(path)
    return path


def test_sampling_and_encoding_your_own_digit_are_checked(browser, live_app, a_digit):
    with opened(browser, live_app, LAPTOP) as page:
        page.click("#ll-lesson-go")
        for _ in range(3):
            page.click("#ll-lesson-next")
        assert step_title(page) == "Draw codes at random"
        page.wait_for_function("() => window.llLessons.base !== null", timeout=WAIT)
        for _ in range(3):
            assert "Done!" not in page.locator("#ll-lesson-status").inner_text()
            page.click("#ll-random")
        done(page)
        page.click("#ll-lesson-next")
        assert step_title(page) == "Encode your own digit"
        page.wait_for_function("() => window.llLessons.signatures['ll-model-saw'] !== undefined", timeout=WAIT)
        assert "Done!" not in page.locator("#ll-lesson-status").inner_text()
        upload(page, a_digit)
        done(page)
