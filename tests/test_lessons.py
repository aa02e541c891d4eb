"""Lessons as data (ui/lesson.py) and the teacher's channel (ui/teacher.py), without a browser."""

import copy
import json
import shutil

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import i18n
from ui import lesson
from ui.teacher import TeacherChannel, check_view

NO_KEY, WRONG_KEY = i18n.text("teacher.no_key", "en"), i18n.text("teacher.wrong_key", "en")


@pytest.fixture
def folder(tmp_path):
    """A copy of the shipped lessons folder a test may spoil."""
    target = tmp_path / "lessons"
    shutil.copytree(lesson.LESSONS_DIR, target)
    return target


def spoil(folder, change):
    """Rewrite lessons/vae-intro.json in `folder` with `change(data)` applied; return its path."""
    path = folder / "vae-intro.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_shipped_lesson_loads_in_both_languages():
    data = lesson.load_all()
    assert data["problems"] == []
    intro = data["lessons"]["vae-intro"]
    assert 6 <= len(intro["steps"]) <= 10
    for step in intro["steps"]:
        for key in ("title", "body", "task"):
            assert set(step[key]) == set(i18n.LANGUAGES) and all(step[key].values())
        assert step["state"] == "" or lesson.parse_state(step["state"])
    assert any(s.get("check", {}).get("type") == "reader_says" for s in intro["steps"])
    assert lesson.parse_state(intro["steps"][-1]["state"])["tab"] == "train"
    # The field's established Chinese terms.
    zh = json.dumps(data, ensure_ascii=False)
    for term in ("变分自编码器", "隐空间", "重参数化技巧", "证据下界", "KL 散度", "循环神经网络", "温度"):
        assert term in zh, term


def test_the_glossary_covers_the_words_the_app_uses():
    glossary = lesson.load_all()["glossary"]
    assert glossary and all(lesson.NAME.fullmatch(term) for term in glossary)
    for term in glossary:  # every term has its name and its sentence in the catalogue (in every language: its own test)
        assert i18n.text(f"glossary.{term}.term", "en") and i18n.text(f"glossary.{term}.text", "en")
    names = " ".join(i18n.text(f"glossary.{term}.term", "en") for term in glossary)
    for word in ("VAE", "Latent space", "KL divergence", "Nats", "ELBO", "q(z|x)", "ε", "Reparameterization",
                 "IWAE", "PCA", "β", "Logit", "RNN", "Temperature"):
        assert word in names, word


def test_the_app_texts_link_known_terms_and_every_language_keeps_the_links():
    """A catalogue text's [[term|words]] opens the glossary (ui/static/lesson.js): each names a glossary term, and a
    translation links the same terms as its English text."""
    english = i18n.catalogue(i18n.DEFAULT)
    linked = {key: sorted(lesson.TERM_LINK.findall(text)) for key, text in english.items() if "[[" in text}
    assert {"explain.help", "explore.intro", "write.intro", "train.expert_terms"} <= set(linked)
    for code in i18n.LANGUAGES:
        for key, text in i18n.catalogue(code).items():
            terms = lesson.TERM_LINK.findall(text)
            assert set(terms) <= set(lesson.GLOSSARY), f"{code}: {key} links an unknown term: {terms}"
            assert sorted(terms) == linked.get(key, []), f"{code}: {key} links {sorted(terms)}, English {linked.get(key)}"


@pytest.mark.parametrize("change, words", [
    (lambda d: d["steps"][2].pop("task"), "lessons/vae-intro.json, step 3 has no \"task\"."),
    (lambda d: d["steps"][1]["check"].update(type="dance"), "step 2: the check type 'dance' is unknown"),
    (lambda d: d["steps"][0]["title"].pop("en"), "step 1: the title has no en text"),
    (lambda d: d["steps"][0]["title"].update(fr="Bonjour"), "step 1: the title has a text in an unknown language 'fr'."),
    (lambda d: d["steps"][3].update(state="?tab=pictures"), "step 4: the state's tab must be one of"),
    (lambda d: d["steps"][3].update(state="?z=1,nope"), "step 4: z must be a list of numbers"),
    (lambda d: d["steps"][3].update(state="?colour=red"), "step 4: the state has an unknown part 'colour'"),
    (lambda d: d["steps"][1]["check"].update(by="far"), "step 2: the check slider_moved has an unusable by"),
    (lambda d: d["steps"][2]["check"].pop("class"), "step 3: the check reader_says needs a class."),
    (lambda d: d["steps"][0]["body"].update(en="A [[wormhole]]."), "step 1: the en body links to 'wormhole'"),
    (lambda d: d.update(steps=[]), "\"steps\" must be a list of 1 to"),
])
def test_a_broken_lesson_gets_one_sentence_naming_file_and_step(folder, change, words):
    path = spoil(folder, change)
    with pytest.raises(lesson.LessonError) as caught:
        lesson.load_lesson(path)
    message = str(caught.value)
    assert words in message and "lessons/vae-intro.json" in message
    assert str(folder) not in message and "Traceback" not in message
    # The app goes on without it, and says why.
    data = lesson.load_all(folder)
    assert "vae-intro" not in data["lessons"] and data["problems"] == [message]


def test_a_file_that_is_not_json_is_named(folder):
    (folder / "mine.json").write_text("{ not json", encoding="utf-8")
    data = lesson.load_all(folder)
    assert data["problems"] == ["lessons/mine.json is not valid JSON (line 1: Expecting property name enclosed "
                                "in double quotes)."]
    assert "vae-intro" in data["lessons"]


def test_the_lessons_route_serves_everything_the_page_needs():
    client = TestClient(Starlette(routes=lesson.routes()))
    data = client.get(lesson.LESSONS_URL).json()
    assert set(data) == {"lessons", "glossary"} and "vae-intro" in data["lessons"]
    assert data["glossary"] == list(lesson.GLOSSARY) and "rnn" in data["glossary"]
    assert client.get(lesson.SCRIPT_URL).headers["content-type"].startswith("text/javascript")
    assert client.get(lesson.CSS_URL).headers["content-type"].startswith("text/css")
    # The engine's words are the catalogue's: a step's "Step 2 of 10" in each language.
    assert i18n.text("lesson.step_of", "zh-CN", n=2, total=10) == "第 2 步，共 10 步"


def test_a_lesson_without_chinese_loads_and_a_chinese_reader_gets_english(folder):
    path = spoil(folder, lambda d: [texts.pop("zh-CN") for step in d["steps"] for texts in step.values()
                                    if isinstance(texts, dict) and "zh-CN" in texts])
    loaded = lesson.load_lesson(path)
    assert set(loaded["steps"][0]["title"]) == {"en"}  # the page shows English (lesson.js, pick)


VIEW = {"link": "?tab=explore&model=vae-mnist&z=1,-1" + ",0" * 18, "lesson": "vae-intro", "step": 2}


def teacher_client(key):
    return TestClient(Starlette(routes=TeacherChannel(key).routes()))


def test_the_teacher_sends_and_students_get_the_view_once():
    client = teacher_client("s3cret-key")
    assert client.get("/latent-lab/teacher/view?since=0").json() == {"enabled": True, "serial": 0, "poll_s": 4}
    assert client.post("/latent-lab/teacher/check", json={"key": "s3cret-key"}).status_code == 200
    sent = client.post("/latent-lab/teacher/view", json={**VIEW, "key": "s3cret-key"})
    assert sent.json() == {"serial": 1}
    got = client.get("/latent-lab/teacher/view?since=0").json()
    assert got["view"] == VIEW and got["serial"] == 1
    assert "view" not in client.get("/latent-lab/teacher/view?since=1").json()  # nothing new: a cheap answer


@pytest.mark.parametrize("key, body, status, words", [
    ("", {"key": "anything"}, 403, NO_KEY),
    ("right", {"key": "wrong"}, 403, WRONG_KEY),
    ("right", {}, 403, WRONG_KEY),
    ("right", {"key": ["right"]}, 403, WRONG_KEY),
    ("right", {"key": "right", "link": "?tab=kitchen"}, 400, "The view's link is unusable: the state's tab"),
    ("right", {"key": "right", "link": "?z=1e9"}, 400, "z values must lie between"),
    ("right", {"key": "right", "link": "?tab=write", "lesson": "../etc", "step": 1}, 400, "lesson's name"),
    ("right", {"key": "right", "link": "?tab=write", "lesson": "vae-intro", "step": True}, 400, "whole number"),
    ("right", {"key": "right", "link": "?tab=write&" + "z=1," * 600}, 400, "at most 1000 characters"),
])
def test_without_the_key_nobody_sends_and_bad_views_are_refused(key, body, status, words):
    client = teacher_client(key)
    answer = client.post("/latent-lab/teacher/view", json=body)
    assert answer.status_code == status and words in answer.json()["error"]
    assert "view" not in client.get("/latent-lab/teacher/view").json()


def test_a_huge_or_malformed_message_is_refused_with_a_sentence():
    client = teacher_client("right")
    huge = client.post("/latent-lab/teacher/view", content=b"{" + b" " * 10_000 + b"}",
                       headers={"content-type": "application/json"})
    assert huge.status_code == 400 and "under 4096 bytes" in huge.json()["error"]
    for raw in (b"[1, 2]", b"\xff\xfe", b"not json"):
        answer = client.post("/latent-lab/teacher/view", content=raw)
        assert answer.status_code == 400 and answer.json()["error"].startswith("A teacher's message must be")


def test_a_view_is_checked_like_untrusted_input():
    assert check_view(copy.deepcopy(VIEW)) == VIEW
    assert check_view({"link": "?tab=train"}) == {"link": "?tab=train", "lesson": None, "step": None}
    for bad in (None, [], {"link": 5}, {"link": "tab=train"}, {"link": "?model=<script>"}):
        with pytest.raises(ValueError):
            check_view(bad)


def test_a_teacher_writing_in_chinese_gets_chinese_sentences(folder):
    path = spoil(folder, lambda d: d["steps"][1]["check"].update(type="dance"))
    with pytest.raises(lesson.LessonError) as caught:
        lesson.load_lesson(path)
    with i18n.speaking("zh-CN"):
        assert str(caught.value).startswith("lessons/vae-intro.json 第 2 步：没有“dance”这种检查类型")
    client = teacher_client("right")
    answer = client.post("/latent-lab/teacher/view", json={"key": "right", "link": "?tab=kitchen"},
                         headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert answer.status_code == 400 and answer.json()["error"].startswith("视图的链接不能用：状态里的 tab 必须是")
    wrong = client.post("/latent-lab/teacher/check", json={"key": "wrong"}, headers={"Accept-Language": "zh"})
    assert wrong.status_code == 403 and wrong.json()["error"] == i18n.text("teacher.wrong_key", "zh-CN")
