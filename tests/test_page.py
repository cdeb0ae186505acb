"""The page at / in a real headless Chromium against real gunicorn: upload, see, look up."""
import re
import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from photos import jpeg
from server import ROOT, gunicorn

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with gunicorn(tmp_path_factory.mktemp("page-server"), workers=1) as base:
        yield base


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    for binary in ("chromium", "chromedriver"):
        if shutil.which(binary) is None:
            raise RuntimeError(f"{binary} is not installed: apt-get install chromium chromium-driver "
                               "(make test does it)")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--window-size=1280,2000",
                     f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _upload(browser, site, tmp_path, name):
    photo = tmp_path / f"{name}.jpg"
    photo.write_bytes(jpeg(name))
    browser.get(site + "/")
    browser.find_element(By.ID, "photo-input").send_keys(str(photo))
    verdict = browser.find_element(By.ID, "verdict")
    WebDriverWait(browser, 30).until(lambda _: "pending" not in verdict.get_attribute("class") and verdict.text)
    return verdict


def _screenshot(browser, name):
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    browser.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
    return path


def test_upload_a_face_and_see_crop_checks_and_analysis(browser, site, tmp_path):
    verdict = _upload(browser, site, tmp_path, "astronaut")
    assert verdict.text.startswith("valid") and "valid" in verdict.get_attribute("class").split()
    crop = browser.find_element(By.ID, "crop-image")
    WebDriverWait(browser, 30).until(lambda _: browser.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth", crop) == 512)
    rows = browser.find_elements(By.CSS_SELECTOR, "#checks tbody tr")
    assert len(rows) == 27 and not browser.find_elements(By.CSS_SELECTOR, "#checks td.fail")
    assert all(row.find_elements(By.CSS_SELECTOR, "td.pass, td.advisory") for row in rows)
    yaw = browser.find_element(By.CSS_SELECTOR, '#checks tr[data-check="yaw"]')
    assert yaw.find_element(By.CSS_SELECTOR, "td.quality").text == "100"
    assert "degrees" in yaw.find_element(By.CSS_SELECTOR, "td.native").text
    WebDriverWait(browser, 30).until(lambda _: browser.find_element(By.ID, "analysis").text)
    analysis = browser.find_element(By.ID, "analysis").text
    assert "Pose and openness" in analysis and "ITA" in analysis and "Skin colour: left cheek" in analysis
    assert "px/mm" in analysis and "cm² of skin" in analysis and "skin type (ITA)" in analysis
    concerns = browser.find_elements(By.CSS_SELECTOR, "#concerns figure.concern")
    assert [figure.get_attribute("data-concern") for figure in concerns] == [
        "wrinkles", "spots", "pores", "texture", "redness", "dark_circles", "shine", "tone"]
    for figure in concerns:  # every heatmap arrives, drawn on the 512 crop, with its score or reason
        image = figure.find_element(By.TAG_NAME, "img")
        WebDriverWait(browser, 30).until(lambda _: browser.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth", image) == 512)
        caption = figure.find_element(By.TAG_NAME, "figcaption").text
        assert "/100" in caption or "not measured" in caption, caption
        if "(none)" in caption:  # nothing shown that was not found: no kind of dark circle for none
            assert "structural" not in caption and "vascular" not in caption and "pigmented" not in caption
    glossary = browser.find_element(By.ID, "skin-glossary").text
    assert "uncalibrated" in glossary and "ITA" in glossary and "a*" in glossary
    concerns[1].find_element(By.TAG_NAME, "img").click()  # a heatmap enlarges on click ...
    big = browser.find_element(By.ID, "lightbox-image")
    WebDriverWait(browser, 10).until(lambda _: browser.find_element(By.ID, "lightbox").is_displayed())
    assert big.size["width"] > 300 and "spots" in browser.find_element(By.ID, "lightbox-caption").text
    browser.find_element(By.ID, "lightbox").click()  # ... and closes on another
    WebDriverWait(browser, 10).until(lambda _: not browser.find_element(By.ID, "lightbox").is_displayed())
    canvas_width = browser.execute_script("return document.getElementById('photo-canvas').width")
    assert canvas_width == 512
    _screenshot(browser, "page-valid.png")


def test_upload_a_non_face_and_see_the_reason(browser, site, tmp_path):
    verdict = _upload(browser, site, tmp_path, "rocket")
    assert verdict.text.startswith("not valid") and "No face was found" in verdict.text
    assert browser.find_element(By.ID, "crop-figure").get_attribute("hidden") is not None
    failed = browser.find_element(By.CSS_SELECTOR, '#checks tr[data-check="face_detected"] td.fail')
    assert failed.text == "fail"
    # one reason, once; the checks that need a face say they were not measured, not that they failed
    assert verdict.text.count("No face") == 1 and "to measure" not in verdict.text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#checks td.fail")) == 1
    unmeasured = browser.find_elements(By.CSS_SELECTOR, "#checks td.unmeasured")
    assert len(unmeasured) == 26 and {cell.text for cell in unmeasured} == {"not measured"}
    _screenshot(browser, "page-no-face.png")


def test_look_up_ids_and_see_the_apis_words(browser, site, tmp_path):
    _upload(browser, site, tmp_path, "astronaut")
    figure = browser.find_element(By.ID, "crop-figure")
    WebDriverWait(browser, 30).until(lambda _: figure.get_attribute("data-image-id"))
    image_id = figure.get_attribute("data-image-id")
    assert len(image_id) == 32
    for typed, expected in ((image_id, "Found the stored crop"), ("0" * 32, "(image_not_found)"),
                            ("../../etc/passwd", "(invalid_image_id)")):
        browser.get(site + "/")
        browser.find_element(By.ID, "lookup-id").send_keys(typed)
        browser.find_element(By.CSS_SELECTOR, "#lookup-form button").click()
        verdict = browser.find_element(By.ID, "verdict")
        try:
            WebDriverWait(browser, 30).until(lambda _: expected in verdict.text)
        except Exception:
            _screenshot(browser, "page-lookup-failed.png")
            raise AssertionError(f"after looking up {typed!r}: {verdict.text!r}")


def _console_errors(browser):
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def _window(browser, width, height):
    """Resize the window and wait until the page sees it (headless Chromium applies it a moment later)."""
    browser.set_window_size(width, height)
    WebDriverWait(browser, 10).until(lambda _: abs(browser.execute_script("return window.innerWidth") - width) <= 20)


@pytest.mark.parametrize("name", ["astronaut", "rocket"])
def test_fits_a_phone_width_without_sideways_scroll(browser, site, tmp_path, name):
    _window(browser, 390, 1400)
    try:
        width = browser.execute_script("return window.innerWidth")
        assert 370 <= width <= 400
        _console_errors(browser)  # reading the log empties it: earlier tests' lookups log 404s on purpose
        _upload(browser, site, tmp_path, name)
        if name == "astronaut":
            WebDriverWait(browser, 30).until(lambda _: browser.find_element(By.ID, "analysis").text)
        scroll = browser.execute_script("return document.documentElement.scrollWidth")
        assert scroll <= width, f"the page is {scroll} px wide in a {width} px window"
        # the "why" of each check runs across the row, not a word per line
        why = browser.find_element(By.CSS_SELECTOR, "#checks tbody tr td:last-child")
        assert why.size["width"] >= 0.6 * width
        _screenshot(browser, f"page-390-{name}.png")
        assert _console_errors(browser) == []
    finally:
        _window(browser, 1280, 2000)


def test_the_page_has_an_icon(browser, site):
    _console_errors(browser)
    browser.get(site + "/")
    WebDriverWait(browser, 10).until(lambda _: browser.execute_script("return document.readyState") == "complete")
    icon = browser.execute_script("return document.querySelector('link[rel=icon]').href")
    for url in (icon, site + "/favicon.ico"):
        status = browser.execute_async_script(
            "fetch(arguments[0]).then(r => arguments[1](r.status + ' ' + r.headers.get('Content-Type')))", url)
        assert status.startswith("200 image/")
    assert not [message for message in _console_errors(browser) if "favicon" in message or "404" in message]


# For each check name, the characters after which its cell breaks a line; only "_" may be one.
_NAME_BREAKS = """
const breaks = {};
for (const cell of document.querySelectorAll('#checks td.name')) {
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  const chars = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      chars.push([node.data[i], range.getBoundingClientRect().top]);
    }
  }
  const after = [];
  for (let i = 1; i < chars.length; i++) if (chars[i][1] > chars[i - 1][1] + 1) after.push(chars[i - 1][0]);
  breaks[cell.textContent] = after;
}
return breaks;
"""


def test_check_names_break_only_at_underscores_on_a_phone(browser, site, tmp_path):
    _window(browser, 390, 1400)
    try:
        _upload(browser, site, tmp_path, "astronaut")
        breaks = browser.execute_script(_NAME_BREAKS)
        assert len(breaks) == 27 and "illumination_uniformity" in breaks
        assert {name: after for name, after in breaks.items() if set(after) - {"_"}} == {}
    finally:
        _window(browser, 1280, 2000)


def test_the_page_offers_every_quality_profile():
    from ananacare.quality.checks import PROFILES

    page = (ROOT / "ananacare" / "static" / "ui" / "index.html").read_text()
    select = page[page.index('<select id="profile">'):page.index("</select>")]
    assert sorted(re.findall(r'<option value="([a-z]+)"', select)) == sorted(PROFILES)


@pytest.fixture(scope="module")
def keyed_site(tmp_path_factory):
    env = {"ANANACARE_API_KEYS": "docs:key-1", "ANANACARE_SECRET_KEY": "0123456789abcdef0123456789abcdef"}
    with gunicorn(tmp_path_factory.mktemp("keyed-docs-server"), workers=1, env=env) as base:
        yield base


def _try_out_get_image(browser, image_id):
    """In Swagger UI: GET /api/images/{image_id}, Try it out, Execute; the live response's status."""
    operation = browser.find_element(By.CSS_SELECTOR, '.opblock-get:has([data-path="/api/images/{image_id}"])')
    if "is-open" not in operation.get_attribute("class"):
        operation.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait = WebDriverWait(browser, 30)
    if operation.find_elements(By.CSS_SELECTOR, ".try-out__btn:not(.cancel)"):
        operation.find_element(By.CSS_SELECTOR, ".try-out__btn").click()

    def ready_field(_):
        field = operation.find_element(By.CSS_SELECTOR, 'input[placeholder="image_id"]')
        return field if field.is_displayed() and field.is_enabled() else None
    field = wait.until(ready_field)  # Try it out re-renders the parameters: wait until they take input
    field.clear()
    field.send_keys(image_id)
    for old in operation.find_elements(By.CSS_SELECTOR, ".btn-clear"):
        old.click()  # clear an earlier answer so the next status is this request's
    operation.find_element(By.CSS_SELECTOR, ".execute").click()
    status = ".live-responses-table tbody .response-col_status"
    return wait.until(lambda _: "".join(cell.text for cell in operation.find_elements(By.CSS_SELECTOR, status)))


def test_swagger_ui_authorize_then_try_it_out_with_keys_on(browser, keyed_site):
    browser.get(keyed_site + "/api/docs/")
    wait = WebDriverWait(browser, 30)
    wait.until(lambda _: browser.find_elements(By.CSS_SELECTOR, ".btn.authorize"))
    assert _try_out_get_image(browser, "0" * 32) == "401"
    browser.find_element(By.CSS_SELECTOR, ".btn.authorize").click()
    dialog = wait.until(lambda _: browser.find_element(By.CSS_SELECTOR, ".dialog-ux .modal-ux"))
    box = next(form for form in dialog.find_elements(By.CSS_SELECTOR, ".auth-container") if "X-API-Key" in form.text)
    box.find_element(By.CSS_SELECTOR, "input").send_keys("key-1")
    box.find_element(By.CSS_SELECTOR, ".modal-btn.authorize").click()
    dialog.find_element(By.CSS_SELECTOR, ".close-modal").click()
    assert _try_out_get_image(browser, "0" * 32) == "404"  # the key went along: image_not_found, not 401
