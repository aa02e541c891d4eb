"""The guided lesson, the glossary and the teacher's shared view in headless Chromium.

Screenshots of the lesson at 1280x720, 390x844 and in presentation mode go to test-artifacts/
(lesson-1280.png, lesson-phone.png, lesson-presentation.png, glossary.png).
"""

import contextlib

import pytest
from PIL import Image
from browser_waits import wait_shown, wait_until
from conftest import free_port, open_context

from test_browser_explore import upload

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}
TEACHER_KEY = "test-teacher-key-7"
EIGHT = [0.18, 0.2, 0.06, 0.26, 0.01, 0.23, 0.41, -0.34, 0.23, -0.07, 0.09, -0.41, 1.25, -0.46, -0.93, 0.14,
         -0.05, -0.08, 0.02, -0.52]  # vae-mnist's centroid of the 8s, rounded: the reader says 8


@contextlib.contextmanager
def opened(browser, url, viewport, **options):
    """A page of its own session on `url` at `viewport`, with the explorer's first answer on it."""
    context = open_context(browser, viewport=viewport, **options)
    try:
        page = context.new_page()
        page.goto(url)
        wait_until(page, "() => window.llLive && window.llLive.answered", "the explorer's first answer")
        yield page
    finally:
        context.close()


def within(page, selector, viewport) -> bool:
    """True when the element is visible and wholly inside the first screen."""
    box = page.locator(selector).first.bounding_box()
    return (box is not None and box["width"] > 0 and box["x"] >= 0 and box["y"] >= 0
            and box["x"] + box["width"] <= viewport["width"] + 1 and box["y"] + box["height"] <= viewport["height"] + 1)


def done(page):
    wait_until(page, "() => document.querySelector('#ll-lesson-status').textContent.includes('Done!')",
               "the step's check to say Done!")


def step_title(page) -> str:
    return page.locator("#ll-lesson-title").inner_text()


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
        wait_shown(page.locator("#ll-lesson-start").first, "#ll-lesson-start to show")
        assert within(page, "#ll-lesson-start", LAPTOP) and within(page, "#ll-lesson-go", LAPTOP)
        page.screenshot(path=str(artifacts / "lesson-start-1280.png"))
        # Keyboard only: the start button is reached and pressed with the keyboard.
        page.focus("#ll-lesson-go")
        page.keyboard.press("Enter")
        wait_shown(page.locator("#ll-lesson-dock").first, "#ll-lesson-dock to show")
        assert step_title(page) == "A picture is a code of 20 numbers"
        assert page.get_by_role("button", name="Next").is_visible()
        assert page.locator("#ll-lesson-status").get_attribute("aria-live") == "polite"
        page.click("#ll-lesson-next")

        # Step 2: move any slider by at least 1 (typed into its box, Enter lets go).
        assert step_title(page) == "Move one number"
        wait_until(page, "() => window.llLessons.base !== null", "the step's state to be applied")
        assert "Done!" not in page.locator("#ll-lesson-status").inner_text()
        box = page.locator("#ll-z0 input[type=number]")
        box.fill("2.5")
        box.press("Enter")
        done(page)
        page.click("#ll-lesson-next")

        # Step 3: its link puts a 3 on the sliders; the check passes once the reader says 8.
        assert step_title(page) == "Turn this 3 into an 8"
        wait_until(page, "() => document.querySelector('#ll-probs .output-class') && "
                               "document.querySelector('#ll-probs .output-class').textContent.trim() === '3'",
                               "the reader to say 3")
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
        wait_shown(page.locator("#ll-lesson-dock").first, "#ll-lesson-dock to show")
        assert step_title(page) == "Turn this 3 into an 8"
        assert page.locator("#ll-lesson-start").count() == 0

        # A word of the field opens the glossary at its entry.
        page.get_by_role("button", name="RNN (recurrent neural network)").click()
        wait_shown(page.locator("#ll-glossary[open]").first, "#ll-glossary[open] to show")
        wait_until(page, "() => document.activeElement.id === 'll-term-rnn'", "the glossary's RNN entry to get the focus")
        page.screenshot(path=str(artifacts / "glossary.png"))
        page.keyboard.press("Escape")
        wait_shown(page.locator("#ll-glossary:not([open])"), "the glossary to close", state="attached")

        # The app's own words of the field open it too: one the catalogue's text marks ([[encoder|encoder]]) by a
        # click, one the panel's markup marks (data-term="beta") by Enter; each carries its sentence as its tooltip.
        beta = page.locator("#ll-explain-elbo [data-term=beta]").first  # marked in explain.py's markup: not a button
        assert beta.get_attribute("title").startswith("The weight of the KL term")
        page.locator("#ll-explain .ll-help .ll-term[data-term=encoder]").first.click()  # left: clear of the lesson
        wait_until(page, "() => document.activeElement.id === 'll-term-encoder'", "the glossary's encoder to get the focus")
        page.keyboard.press("Escape")
        wait_shown(page.locator("#ll-glossary:not([open])"), "the glossary to close", state="attached")
        beta.focus()
        page.keyboard.press("Enter")
        wait_until(page, "() => document.activeElement.id === 'll-term-beta'",
                   "Enter on the marked β to open the glossary at its entry")
        assert "[[" not in page.locator("#ll-explain").inner_text()  # no markup is left to read
        page.keyboard.press("Escape")
        wait_shown(page.locator("#ll-glossary:not([open])"), "the glossary to close", state="attached")

        # Next never waits for a check (a teacher may skip); step 9 opens the Write tab, step 10 the Train tab.
        page.click("#ll-glossary-close") if page.locator("#ll-glossary[open]").count() else None
        for _ in range(7):
            page.click("#ll-lesson-next")
        assert page.locator("#ll-lesson-next").inner_text() == "Finish"
        wait_until(page, "() => document.querySelector('button[role=tab][data-tab-id=train]')"
                               ".getAttribute('aria-selected') === 'true'", "the Train tab to open")
        assert step_title(page) == "Train with your own β"
        page.click("#ll-lesson-back")
        wait_until(page, "() => document.querySelector('button[role=tab][data-tab-id=write]')"
                               ".getAttribute('aria-selected') === 'true'", "the Write tab to open")
        for _ in range(3):
            page.click("#ll-write-step")
        done(page)


def test_the_lesson_in_chinese_on_a_phone(browser, live_app, artifacts):
    with opened(browser, live_app, PHONE, locale="zh-CN") as page:
        wait_shown(page.locator("#ll-lesson-start").first, "#ll-lesson-start to show")
        assert within(page, "#ll-lesson-go", PHONE)
        assert page.locator("#ll-lesson-go").inner_text() == "开始课程"
        page.screenshot(path=str(artifacts / "lesson-start-phone.png"))
        page.click("#ll-lesson-go")
        wait_shown(page.locator("#ll-lesson-dock").first, "#ll-lesson-dock to show")
        assert step_title(page) == "一张图就是 20 个数的编码"
        assert within(page, "#ll-lesson-next", PHONE)
        page.screenshot(path=str(artifacts / "lesson-phone.png"))
        page.click("#ll-lesson-x")  # hidden, it leaves a button to come back
        page.click("#ll-lesson-pill")
        wait_shown(page.locator("#ll-lesson-dock").first, "#ll-lesson-dock to show")
        # The glossary in Chinese, in the order of Chinese; a term of a step opens it at its entry.
        page.click("#ll-lesson-glossary")
        wait_shown(page.locator("#ll-glossary[open]").first, "#ll-glossary[open] to show")
        assert page.locator("#ll-glossary-title").inner_text() == "术语表：本领域的常用词"
        assert page.locator("#ll-term-kl").inner_text() == "KL 散度"
        page.click("#ll-glossary-close")
        # The rest of the page is in the same language: the switch, the skip link, the tabs, the title.
        page.evaluate("() => window.scrollTo(0, 0)")
        assert page.locator("label[for=ll-language]").inner_text() == "语言"
        assert page.locator("#ll-language").input_value() == "zh-CN" and within(page, "#ll-language", PHONE)
        assert page.locator(".ll-skip").text_content() == "跳到主要控件"
        assert page.evaluate("() => [document.documentElement.lang, document.title]") == ["zh-CN", "隐空间实验室"]
        tabs = page.locator("button[role=tab][data-tab-id]").all_inner_texts()
        assert tabs[:3] == ["探索", "书写", "训练"], tabs


def test_the_lesson_in_presentation_mode(browser, live_app, artifacts):
    with opened(browser, live_app + "/?present=1", LAPTOP) as page:
        wait_shown(page.locator(".gradio-container.ll-present").first, ".gradio-container.ll-present to show")
        wait_shown(page.locator("#ll-lesson-go").first, "#ll-lesson-go to show")
        assert within(page, "#ll-lesson-go", LAPTOP)
        # The card does not push the projector's one screen down.
        wait_until(page, "() => document.querySelector('#ll-explore').getBoundingClientRect().top < 60",
                   "the projector's screen to start at the top")
        page.click("#ll-lesson-go")
        page.click("#ll-lesson-next")
        wait_until(page, "() => window.llLessons.base !== null", "the step's state to be applied")
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
        wait_shown(teacher.locator("#ll-teacher-send").first, "#ll-teacher-send to show")
        teacher.click("#ll-lesson-go")
        teacher.click("#ll-lesson-next")
        type_code(teacher, EIGHT)
        wait_until(teacher, "() => location.search.includes('z=0.18')", "the teacher's link to hold the 8")
        teacher.click("#ll-teacher-send")
        wait_until(teacher, "() => document.querySelector('#ll-teacher-note').textContent === 'Sent to the class.'",
                   "the teacher's note Sent to the class")
        for student in (first, second):
            wait_shown(student.locator("#ll-teacher-follow").first, "#ll-teacher-follow to show")
            assert "Your teacher shared a view." in student.locator("#ll-teacher").inner_text()
        first.screenshot(path=str(artifacts / "teacher-shared.png"))
        first.click("#ll-teacher-follow")
        wait_shown(first.locator("#ll-lesson-dock").first, "#ll-lesson-dock to show")
        assert step_title(first) == "Move one number"
        wait_until(first, "() => document.querySelector('#ll-probs .output-class').textContent.trim() === '8'",
                   "the student's reader to say 8")
        second.click("#ll-teacher-dismiss")  # the other student stays where they were
        assert second.locator("#ll-lesson-dock").count() == 0

        # While following, the next view arrives by itself; Leave stops it.
        teacher.click("button[role=tab][data-tab-id=write]")
        teacher.click("#ll-teacher-send")
        wait_until(first, "() => document.querySelector('button[role=tab][data-tab-id=write]')"
                                ".getAttribute('aria-selected') === 'true'", "the Write tab to open")
        first.click("#ll-teacher-leave")
        teacher.click("button[role=tab][data-tab-id=train]")
        teacher.click("#ll-teacher-send")
        wait_shown(second.locator("#ll-teacher-follow").first, "#ll-teacher-follow to show")
        wait_shown(first.locator("#ll-teacher-follow").first, "#ll-teacher-follow to show")  # offered again, not applied
        assert first.evaluate("() => document.querySelector('button[role=tab][data-tab-id=write]')"
                              ".getAttribute('aria-selected')") == "true"


def test_a_wrong_key_gets_a_sentence_and_sends_nothing(browser, class_app, live_app):
    with opened(browser, f"{class_app}/?teacher=guess", LAPTOP) as page:
        wait_shown(page.locator("#ll-teacher [role=alert]").first, "#ll-teacher [role=alert] to show")
        assert page.locator("#ll-teacher [role=alert]").inner_text() == (
            "That teacher key is wrong: open the page with the key the host set (?teacher=...).")
        assert page.locator("#ll-teacher-send").count() == 0
    with opened(browser, f"{live_app}/?teacher={TEACHER_KEY}", LAPTOP) as page:  # a server with no key
        wait_shown(page.locator("#ll-teacher [role=alert]").first, "#ll-teacher [role=alert] to show")
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
        wait_until(page, "() => window.llLessons.base !== null", "the step's state to be applied")
        for _ in range(3):
            assert "Done!" not in page.locator("#ll-lesson-status").inner_text()
            page.click("#ll-random")
        done(page)
        page.click("#ll-lesson-next")
        assert step_title(page) == "Encode your own digit"
        wait_until(page, "() => window.llLessons.signatures['ll-model-saw'] !== undefined", "the upload step's starting point")
        assert "Done!" not in page.locator("#ll-lesson-status").inner_text()
        upload(page, a_digit)
        done(page)
