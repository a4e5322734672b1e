"""The figure page and the gallery page in a real browser (headless Chromium, selenium).

One browser session for the module. Pages are loaded from disk (file://) with
prefers-reduced-motion emulated, so they start paused and every frame change is the
test's own. Without chromium, chromedriver or selenium the tests skip, saying which is
missing; under CI (the CI variable set) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import time

import numpy as np
import pytest

import convanim as ca
from convanim import gallery
from convanim.flat import step_text

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
DRIVER = shutil.which("chromedriver")
HOSTILE = "</script><img src=x onerror=alert(1)> \"quoted\" 'single' <!-- &amp;"


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install '.[test]')"
    if CHROMIUM is None:
        return "no chromium on PATH (apt-get install chromium)"
    if DRIVER is None:
        return "no chromedriver on PATH (apt-get install chromium-driver)"
    return None


@pytest.fixture(scope="module")
def browser():
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900"):
        opts.add_argument(arg)
    opts.binary_location = CHROMIUM
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The system's chromedriver, given by path: selenium must not try to download one.
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The figure pages the tests load, with their traces."""
    d = tmp_path_factory.mktemp("pages")
    made = {}
    for name, spec, look in (
        ("iso", ca.conv2d(5, 3, stride=2, padding=1), {}),
        ("flat_tconv", ca.conv_transpose2d(3, 3, stride=2, padding=1), {"style": "flat"}),
        ("scatter", ca.conv_transpose2d(3, 3, stride=2, padding=1, view="scatter"),
         {"style": "flat"}),
        ("hostile", ca.pool2d("max", 4, 2), {"title": HOSTILE, "caption": HOSTILE}),
        ("ch_conv", ca.conv2d(4, 3, in_channels=2, out_channels=2, bias=True), {"style": "flat"}),
        ("ch_tconv", ca.conv_transpose2d(3, 3, 2, 0, in_channels=4, out_channels=2, groups=2,
                                         bias=True), {"style": "flat"}),
        ("ch_pool", ca.pool2d("max", 4, 2, in_channels=3), {"style": "flat"}),
        ("pool", ca.pool2d("max", 5, 3, 1, 1), {"style": "flat"}),
        ("chi_pool", ca.pool2d("max", 4, 2, in_channels=3), {}),
        ("chi_conv", ca.conv2d(5, 3, in_channels=3, out_channels=2, bias=True), {}),
        ("chi_tconv", ca.conv_transpose2d(3, 3, 2, in_channels=4, out_channels=2, groups=2,
                                          bias=True), {}),
    ):
        t = ca.trace_of(spec, seed=1)
        path = ca.save(t, d / f"{name}.html", **look)
        made[name] = (path, t)
    return made


def load(browser, path):
    browser.get(path.resolve().as_uri())
    browser.get_log("browser")  # start each page with an empty log (errors are read after)
    return browser


def errors(browser) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


SHADED = """
return Array.from(document.querySelectorAll('.ca-figure svg [data-cell]'))
  .filter(el => !el.closest('.ca-hl') && getComputedStyle(el).visibility === 'visible')
  .map(el => el.getAttribute('data-cell')).sort();"""

HIGHLIGHT = """
const out = {};
document.querySelectorAll('.ca-hl [data-hl]').forEach(el => {
  (out[el.dataset.hl] = out[el.dataset.hl] || []).push(el.dataset.cell); });
return out;"""


def expected_shaded(t, step: int, **look) -> list[str]:
    """The cells frame ``step`` draws (still layers, the frame's own, the persistent ones)."""
    still = ca.scene(t, **look).still(step)
    cells = {" ".join(map(str, op.cell)) for op in still.shapes if getattr(op, "cell", None)}
    return sorted(cells)


def test_no_console_errors_and_slider_range(browser, pages):
    for name, (path, t) in pages.items():
        load(browser, path)
        slider = browser.find_element("css selector", ".ca-slider")
        assert slider.get_attribute("max") == str(t.n_steps - 1), name
        assert slider.get_attribute("value") == "0"
        assert browser.find_element("css selector", ".ca-page").get_attribute("data-playing") == "false"
        assert errors(browser) == [], name


def test_right_arrow_steps_and_changes_the_shaded_cells(browser, pages):
    path, t = pages["iso"]
    load(browser, path)
    before = browser.execute_script(SHADED)
    assert sorted(set(before)) == expected_shaded(t, 0)
    body = browser.find_element("css selector", "body")
    body.send_keys("\ue014")  # right arrow, sent to the document: no click first
    slider = browser.find_element("css selector", ".ca-slider")
    assert slider.get_attribute("value") == "1"
    after = browser.execute_script(SHADED)
    assert after != before
    assert sorted(set(after)) == expected_shaded(t, 1)
    body.send_keys("\ue012")  # left arrow
    assert slider.get_attribute("value") == "0"
    body.send_keys("\ue010")  # End
    assert slider.get_attribute("value") == str(t.n_steps - 1)
    assert sorted(set(browser.execute_script(SHADED))) == expected_shaded(t, t.n_steps - 1)
    body.send_keys("\ue011")  # Home
    assert slider.get_attribute("value") == "0"
    assert errors(browser) == []


def hover(browser, cell: str) -> dict:
    from selenium.webdriver.common.action_chains import ActionChains

    target = browser.find_element("css selector", f'.ca-figure svg [data-cell="{cell}"]')
    ActionChains(browser).move_to_element(target).perform()
    return browser.execute_script(HIGHLIGHT)


def cells(grid: str, rows) -> list[str]:
    return sorted(f"{grid} {int(r)} {int(c)}" for r, c in rows)


@pytest.mark.parametrize("name", ["iso", "flat_tconv"])
def test_hovering_an_output_cell_shows_its_footprint_and_taps(browser, pages, name):
    path, t = pages[name]
    load(browser, path)
    oh, ow = t.spec.output_size
    for r, c in ((0, 0), (oh - 1, ow - 1), (1, ow - 2)):
        step = r * ow + c
        got = hover(browser, f"output {r} {c}")
        sl = t.taps(step)
        g = t.grid
        taps_on_grid = np.array(g.origin) + t.tap_in[sl] * np.array(g.spacing)
        assert sorted(got["foot"]) == cells("input", t.footprint(step))
        assert sorted(got["tap"]) == cells("input", taps_on_grid)
        assert got["self"] == [f"output {r} {c}"]
        if name == "flat_tconv":  # the kernel is drawn flipped in this view
            kh, kw = t.spec.kernel_size
            assert sorted(got["kern"]) == cells("kernel", [(kh - 1 - a, kw - 1 - b)
                                                           for a, b in t.tap_w[sl]])
        detail = browser.find_element("css selector", ".ca-detail").text
        assert step_text(t, step)[0] in detail
    assert errors(browser) == []


def test_hovering_an_input_cell_in_scatter_view_shows_the_block_it_stamps(browser, pages):
    path, t = pages["scatter"]
    load(browser, path)
    ih, iw = t.spec.input_size
    for y, x in ((0, 0), (ih - 1, iw - 1)):
        step = y * iw + x
        got = hover(browser, f"input {y} {x}")
        sl = t.taps(step)
        assert sorted(got["foot"]) == cells("output", t.footprint(step))
        assert sorted(got["dst"]) == cells("output", t.tap_out[sl])
        assert sorted(got["kern"]) == cells("kernel", t.tap_w[sl])
    assert errors(browser) == []


def test_an_input_cell_lights_every_output_it_feeds(browser, pages):
    path, t = pages["iso"]
    load(browser, path)
    g = t.grid
    y, x = 1, 1
    got = hover(browser, f"input {g.origin[0] + y * g.spacing[0]} {g.origin[1] + x * g.spacing[1]}")
    fed = t.tap_out[np.all(t.tap_in == (y, x), axis=1)]
    assert len(fed) > 1
    assert sorted(got["dst"]) == cells("output", fed)


def test_click_pins_and_escape_clears(browser, pages):
    path, _ = pages["iso"]
    load(browser, path)
    from selenium.webdriver.common.action_chains import ActionChains

    target = browser.find_element("css selector", '.ca-figure svg [data-cell="output 1 1"]')
    ActionChains(browser).move_to_element(target).click().perform()
    pinned = browser.execute_script(HIGHLIGHT)
    other = browser.find_element("css selector", '.ca-figure svg [data-cell="output 0 0"]')
    ActionChains(browser).move_to_element(other).perform()
    assert browser.execute_script(HIGHLIGHT) == pinned  # pinned: the pointer moved on
    browser.find_element("css selector", "body").send_keys("\ue00c")  # Escape
    assert browser.execute_script(HIGHLIGHT) == {}


def test_space_plays_and_pauses(browser, pages):
    path, _ = pages["iso"]
    load(browser, path)
    page = browser.find_element("css selector", ".ca-page")
    body = browser.find_element("css selector", "body")
    body.send_keys(" ")
    assert page.get_attribute("data-playing") == "true"
    body.send_keys(" ")
    assert page.get_attribute("data-playing") == "false"


def test_a_hostile_title_makes_no_element(browser, pages):
    path, _ = pages["hostile"]
    load(browser, path)
    assert browser.execute_script("return document.querySelectorAll('img').length") == 0
    assert browser.title == HOSTILE
    assert browser.find_element("css selector", ".ca-title").text == HOSTILE
    scripts = browser.execute_script("return document.scripts.length")
    assert scripts == 2  # the data and the page's script, nothing the title made
    svg_title = browser.execute_script(
        "return document.querySelector('.ca-figure svg title').textContent")
    assert svg_title == HOSTILE
    assert errors(browser) == []


def test_gallery_pause_freezes_the_frame_and_step_moves_by_one(browser, tmp_path):
    spec = tmp_path / "g.toml"
    spec.write_text('[defaults]\nduration = 60\nformats = ["svg", "html"]\n'
                    '[[figure]]\nname = "a"\ncommand = "conv"\ni = 5\nk = 3\ns = 2\np = 1\n'
                    '[[figure]]\nname = "m"\ncommand = "matrix"\ni = 3\nk = 2\nformats = ["svg"]\n',
                    encoding="utf-8")
    entries = gallery.load(spec)
    out = tmp_path / "site"
    result = gallery.build(entries, out, jobs=1, spec_name="g.toml")
    assert not result.failed
    # Motion allowed here: the gallery's figures play, and pause must stop the one shown.
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    try:
        load(browser, out / "index.html")
        frame = browser.find_element("css selector", "iframe")
        browser.switch_to.frame(frame)
        page = browser.find_element("css selector", ".ca-page")
        assert page.get_attribute("data-playing") == "true"
        browser.find_element("css selector", ".ca-play").click()
        shown = page.get_attribute("data-frame")
        cells = browser.execute_script(SHADED)
        time.sleep(0.3)  # five frame durations: a playing figure would have moved
        assert page.get_attribute("data-frame") == shown
        assert browser.execute_script(SHADED) == cells
        browser.find_element("css selector", ".ca-next").click()
        n = int(browser.find_element("css selector", ".ca-slider").get_attribute("max")) + 1
        assert page.get_attribute("data-frame") == str(min(int(shown) + 1, n - 1))
        browser.find_element("css selector", ".ca-prev").click()
        assert page.get_attribute("data-frame") == str(min(int(shown) + 1, n - 1) - 1)
        assert errors(browser) == []
        browser.switch_to.default_content()
        assert errors(browser) == []
    finally:
        browser.switch_to.default_content()
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {
            "features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})


def _n(v: float) -> str:
    """A number as the page writes it (its fmt): whole numbers bare, else up to 2 decimals."""
    v = float(v)
    return str(int(v)) if v.is_integer() else f"{v:.2f}".rstrip("0").rstrip(".")


def detail_text(browser) -> str:
    return browser.execute_script("return document.querySelector('.ca-detail').textContent")


@pytest.mark.parametrize("name", ["ch_conv", "ch_tconv"])
def test_a_channel_page_steps_and_explains_an_output_value(browser, pages, name):
    """The channel page: the slider steps through the frames (the shaded cells are the
    scene's); an output value of the current filter lights its footprint and taps on each
    row's map and its weights on each row's kernel slice, and the detail writes each map's
    products and partial sum, the bias and the value, all the trace's."""
    from convanim.flat_channels import step_lines
    path, t = pages[name]
    load(browser, path)
    look = {"style": "flat"}
    body = browser.find_element("css selector", "body")
    slider = browser.find_element("css selector", ".ca-slider")
    assert sorted(set(browser.execute_script(SHADED))) == expected_shaded(t, 0, **look)
    body.send_keys("\ue014")
    assert slider.get_attribute("value") == "1"
    assert sorted(set(browser.execute_script(SHADED))) == expected_shaded(t, 1, **look)
    body.send_keys("\ue010")  # End: the last filter's last value
    last = t.n_steps - 1
    assert slider.get_attribute("value") == str(last)
    assert browser.find_element("css selector", ".ca-step").text == step_lines(t)[last]
    co = int(t.anchor[last][0])
    oh, ow = t.spec.output_size
    g = t.grid
    kh, kw = t.spec.kernel_size
    group = list(t.step_maps(last))
    for r, c in ((0, 0), (oh - 1, ow - 1), (1, 0)):
        step = (co * oh + r) * ow + c
        got = hover(browser, f"out{co} {r} {c}")
        sl = t.taps(step)
        assert got["self"] == [f"out{co} {r} {c}"]
        assert sorted(got["foot"]) == sorted(cell for j in range(len(group))
                                             for cell in cells(f"in{j}", t.footprint(step)))
        want_tap, want_kern, parts = [], [], []
        for j, ci in enumerate(group):
            on = t.tap_in[sl][:, 0] == ci
            ins, ws = t.tap_in[sl][on], t.tap_w[sl][on]
            want_tap += cells(f"in{j}", np.array(g.origin) + ins[:, 1:] * np.array(g.spacing))
            kern = ws[:, 2:] if not t.spec.transposed else [(kh - 1 - a, kw - 1 - b)
                                                            for a, b in ws[:, 2:]]
            want_kern += cells(f"k{j}", kern)
            terms = [f"{_n(t.input[tuple(i)])}*{_n(t.weight[tuple(w)])}" for i, w in zip(ins, ws)]
            parts.append(f"x[{ci}]: {' + '.join(terms) or '0'} = {_n(t.tap_value[sl][on].sum())}")
        assert sorted(got["tap"]) == sorted(want_tap)
        assert sorted(got["kern"]) == sorted(want_kern)
        detail = detail_text(browser)
        want = (f"y[{co}] ({r}, {c}) = " + "; ".join(parts) + f"; bias b({_n(t.bias[co])}); "
                + step_lines(t)[step])
        assert detail == want
        assert detail.endswith(f" = {_n(t.output[co, r, c])}")
    # An output value of another filter: its products, no weights lit (the drawn slices
    # are this filter's), and, with groups, no maps lit when they are another group's.
    other = 0
    got = hover(browser, f"out{other} 0 0")
    assert "kern" not in got
    same_group = t.step_maps(0) == t.step_maps(last)
    assert ("tap" in got) == same_group
    detail = detail_text(browser)
    assert detail.startswith(f"y[{other}] (0, 0) = x[{t.step_maps(0)[0]}]: ")
    assert detail.endswith(f" = {_n(t.output[other, 0, 0])}"
                           + ("" if same_group else " (its input maps are drawn from frame 1)"))
    assert errors(browser) == []


def test_a_channel_input_cell_lights_every_output_it_feeds(browser, pages):
    path, t = pages["ch_conv"]
    load(browser, path)
    y, x = 1, 1
    got = hover(browser, f"in1 {y} {x}")  # row 1 at frame 0: map 1
    fed = t.tap_out[np.all(t.tap_in == (1, y, x), axis=1)]
    assert len(fed) > 2 and len(set(fed[:, 0].tolist())) == 2  # both filters
    assert sorted(got["dst"]) == sorted(f"out{a} {b} {c}" for a, b, c in fed)
    detail = detail_text(browser)
    assert detail.startswith(f"x[1] (1, 1) = {_n(t.input[1, 1, 1])} feeds {len(fed)} output values")
    assert errors(browser) == []


def test_a_pooled_map_page(browser, pages):
    """Pooling: row 0 is the map being pooled; an output value shows its window's max."""
    from convanim.flat_channels import step_lines
    path, t = pages["ch_pool"]
    load(browser, path)
    body = browser.find_element("css selector", "body")
    for _ in range(5):
        body.send_keys("\ue014")
    step = 5
    co, r, c = (int(v) for v in t.anchor[step])
    got = hover(browser, f"out{co} {r} {c}")
    assert sorted(got["foot"]) == cells("in0", t.footprint(step))
    assert sorted(got["tap"]) == cells("in0", t.tap_in[t.taps(step)][:, 1:])
    ci, wy, wx = (int(v) for v in t.winner[step])
    g = t.grid
    assert got["win"] == [f"in0 {g.origin[0] + wy} {g.origin[1] + wx}"]  # the map pooled: row 0
    assert ci == co
    detail = detail_text(browser)
    assert detail == (f"y[{co}] ({r}, {c}) = {step_lines(t)[step]} of x[{co}]; "
                      f"the maximum is x[{ci}] ({wy}, {wx})")
    assert step_lines(t)[step].endswith(f" = {_n(t.output[co, r, c])}")
    assert t.output[co, r, c] == t.input[ci, wy, wx]
    assert errors(browser) == []


def test_max_pooling_marks_the_maximum_of_each_window(browser, pages):
    """One map: the output cell's window on the input, its maximum marked and named (the
    engine's winner, the first maximum row-major); padding never wins."""
    path, t = pages["pool"]
    load(browser, path)
    g = t.grid
    seen = 0
    for step in (0, 6, t.n_steps - 1):
        r, c = (int(v) for v in t.anchor[step])
        got = hover(browser, f"output {r} {c}")
        wy, wx = (int(v) for v in t.winner[step])
        assert got["win"] == [f"input {g.origin[0] + wy} {g.origin[1] + wx}"]
        assert f"input {g.origin[0] + wy} {g.origin[1] + wx}" in got["tap"]
        assert detail_text(browser).endswith(f"; the maximum is input ({wy}, {wx})")
        assert t.output[r, c] == t.input[wy, wx]
        seen += 1
    assert seen == 3
    # Average pooling has no maximum to mark.
    avg = ca.save(ca.trace_of(ca.pool2d("avg", 4, 2), seed=1), path.with_name("avg.html"),
                  style="flat")
    load(browser, avg)
    got = hover(browser, "output 0 0")
    assert "win" not in got and "maximum" not in detail_text(browser)
    assert errors(browser) == []


def test_stacked_max_pooling_marks_the_maximum_on_its_map(browser, pages):
    path, t = pages["chi_pool"]
    load(browser, path)
    step = 5
    co, r, c = (int(v) for v in t.anchor[step])
    got = hover(browser, f"out{co} {r} {c}")
    ci, wy, wx = (int(v) for v in t.winner[step])
    g = t.grid
    assert got["win"] == [f"in{ci} {g.origin[0] + wy} {g.origin[1] + wx}"]
    assert detail_text(browser).endswith(f"; the maximum is x[{ci},{wy},{wx}]")
    assert errors(browser) == []


def test_a_channel_kernel_cell_shows_its_products_in_this_step(browser, pages):
    """A weight of a row's kernel slice (a transposed convolution's, drawn flipped): the
    products of the current step that use it, the input cells lit on that row's map."""
    path, t = pages["ch_tconv"]
    load(browser, path)
    body = browser.find_element("css selector", "body")
    step = 8  # output (1, 1) of map 0: stride 2, both (ky, kx) parities met
    for _ in range(step):
        body.send_keys("\ue014")
    kh, kw = t.spec.kernel_size
    g = t.grid
    sl = t.taps(step)
    for j, ci in enumerate(t.step_maps(step)):
        on = np.flatnonzero(t.tap_in[sl][:, 0] == ci)
        assert len(on)
        n = on[0]
        w = t.tap_w[sl][n]
        r, c = kh - 1 - int(w[2]), kw - 1 - int(w[3])
        got = hover(browser, f"k{j} {r} {c}")
        uses = [m for m in on if tuple(t.tap_w[sl][m]) == tuple(w)]
        assert got["self"] == [f"k{j} {r} {c}"]
        assert sorted(got["tap"]) == cells(f"in{j}", [np.array(g.origin) + t.tap_in[sl][m][1:]
                                                      * np.array(g.spacing) for m in uses])
        terms = " + ".join(f"{_n(t.input[tuple(t.tap_in[sl][m])])}*{_n(t.weight[tuple(w)])}"
                           for m in uses)
        assert detail_text(browser) == (f"w[{', '.join(map(str, map(int, w)))}] = "
                                        f"{_n(t.weight[tuple(w)])}: {terms} in this step")
    assert errors(browser) == []


def hover_at(browser, grid: str, r: int, c: int) -> dict:
    """Move the pointer to the centre of cell (r, c) of ``grid`` from the page's own corner
    map (a padding or inserted-zero cell has no element of its own to move to)."""
    from selenium.webdriver.common.action_chains import ActionChains

    dx, dy = browser.execute_script("""
      const D = JSON.parse(document.getElementById('ca-data').textContent);
      const g = D.grids[arguments[0]], r = arguments[1] + 0.5, c = arguments[2] + 0.5;
      const svg = document.querySelector('.ca-figure svg'), m = svg.getScreenCTM();
      const p = svg.createSVGPoint();
      p.x = g.o[0] + c * g.u[0] + r * g.v[0]; p.y = g.o[1] + c * g.u[1] + r * g.v[1];
      const q = p.matrixTransform(m), box = svg.getBoundingClientRect();
      return [q.x - (box.left + box.width / 2), q.y - (box.top + box.height / 2)];""",
        grid, r, c)
    svg = browser.find_element("css selector", ".ca-figure svg")
    ActionChains(browser).move_to_element_with_offset(svg, int(round(dx)), int(round(dy))).perform()
    return browser.execute_script(HIGHLIGHT)


def test_a_channel_padding_or_inserted_zero_cell_is_explained(browser, pages):
    """Review item 7: the lower grid's cells that are no input value (the stretched map's
    border and the zeros between its values) are in the page's data and say what they are."""
    path, t = pages["ch_tconv"]
    load(browser, path)
    hint = detail_text(browser)
    g = t.grid
    # (0, 0) is the gather form's padding; origin + (0, 1) lies between x[.., 0, 0] and
    # x[.., 0, 1]: a zero the stride inserts.
    pad = (0, 0)
    zero = (g.origin[0], g.origin[1] + 1)
    assert g.spacing == (2, 2) and g.origin[0] > 0
    ci = t.step_maps(0)[1]
    got = hover_at(browser, "in1", *pad)
    assert got["self"] == ["in1 0 0"]
    assert detail_text(browser) == ("in1 (0, 0) of x[%d]: padding, a 0 around the stretched map; "
                                    "its products add nothing to any output value" % ci)
    got = hover_at(browser, "in1", *zero)
    assert got["self"] == [f"in1 {zero[0]} {zero[1]}"]
    assert detail_text(browser) == (
        f"in1 ({zero[0]}, {zero[1]}) of x[{ci}]: a zero inserted between input values by the "
        "transposed convolution (stride 2, 2); its products add nothing to any output value")
    assert detail_text(browser) != hint
    # A real cell still says its value.
    got = hover_at(browser, "in1", g.origin[0], g.origin[1])
    assert detail_text(browser).startswith(f"x[{ci}] (0, 0) = {_n(t.input[ci, 0, 0])} feeds ")
    assert errors(browser) == []


def test_a_one_channel_padding_cell_is_explained(browser, pages):
    """The one-channel page does the same: a conv2d's padding is padding, not an inserted zero."""
    path, t = pages["iso"]
    load(browser, path)
    hover_at(browser, "input", 0, 0)
    assert detail_text(browser) == ("input (0, 0): padding, a 0 around the map; its products "
                                    "add nothing to any output value")
    assert errors(browser) == []


def test_a_channel_kernel_cell_without_a_product_gives_its_weight(browser, pages):
    """Review item 7: a weight of a row's slice that meets no input value in this step
    still names its weight index and value (frame 1 of the stride-2 tconv: the window at
    output (0, 0) meets one input value per map)."""
    path, t = pages["ch_tconv"]
    load(browser, path)
    kh, kw = t.spec.kernel_size
    sl = t.taps(0)
    co = int(t.anchor[0][0])
    per_out = t.spec.out_channels // t.spec.groups
    for j, ci in enumerate(t.step_maps(0)):
        used = {(kh - 1 - int(w[2]), kw - 1 - int(w[3]))
                for i, w in zip(t.tap_in[sl], t.tap_w[sl]) if i[0] == ci}
        free = [(r, c) for r in range(kh) for c in range(kw) if (r, c) not in used]
        assert free
        r, c = free[0]
        got = hover(browser, f"k{j} {r} {c}")
        assert got["self"] == [f"k{j} {r} {c}"] and "tap" not in got
        w = (ci, co % per_out, kh - 1 - r, kw - 1 - c)
        assert detail_text(browser) == (
            f"w[{', '.join(map(str, w))}] = {_n(t.weight[w])} (row {j} ({r}, {c})): no product "
            "in this step, it meets only padding or inserted zeros")
    assert errors(browser) == []


# The iso picture of channels: stacked input maps, stacked output maps, every map drawn.

def test_an_iso_channel_page_steps_through_the_frames(browser, pages):
    path, t = pages["chi_conv"]
    load(browser, path)
    body = browser.find_element("css selector", "body")
    slider = browser.find_element("css selector", ".ca-slider")
    before = browser.execute_script(SHADED)
    assert sorted(set(before)) == expected_shaded(t, 0)
    body.send_keys("\ue014")
    assert slider.get_attribute("value") == "1"
    after = browser.execute_script(SHADED)
    assert after != before and sorted(set(after)) == expected_shaded(t, 1)
    body.send_keys("\ue010")  # End
    last = t.n_steps - 1
    assert sorted(set(browser.execute_script(SHADED))) == expected_shaded(t, last)
    co, r, c = map(int, t.anchor[last])
    assert browser.find_element("css selector", ".ca-step").text.startswith(f"y[{co},{r},{c}] = ")
    assert errors(browser) == []


def stacked_output_text(t, co: int, r: int, c: int) -> str:
    """What the page writes for output value (co, r, c): the value from its maps' partial
    sums and the bias (the step line), then each map's products, all the trace's."""
    from convanim.flat_channels import step_lines
    oh, ow = t.spec.output_size
    step = (co * oh + r) * ow + c
    assert tuple(t.anchor[step]) == (co, r, c)
    sl = t.taps(step)
    parts = []
    for ci in group_maps(t, co):
        on = t.tap_in[sl][:, 0] == ci
        terms = [f"{_n(t.input[tuple(i)])}*{_n(t.weight[tuple(w)])}"
                 for i, w in zip(t.tap_in[sl][on], t.tap_w[sl][on])]
        parts.append(f"x[{ci}]: {' + '.join(terms) or '0'} = {_n(t.tap_value[sl][on].sum())}")
    return (f"y[{co},{r},{c}] = " + step_lines(t)[step].removeprefix("\u03a3 = ") + ", where "
            + "; ".join(parts))


def group_maps(t, co: int) -> range:
    from convanim.channels import group_inputs
    return group_inputs(t.spec, co)


@pytest.mark.parametrize("name", ["chi_conv", "chi_tconv"])
def test_an_iso_channel_output_cell_on_a_lower_map_names_its_value_and_maps(browser, pages, name):
    """An output value on every output map, the lower ones too (each map is seen whole):
    its footprint and taps on each input map of its group (the stretched map's cells in
    gather view), the value with each map's products, whatever the frame shows."""
    path, t = pages[name]
    load(browser, path)
    g = t.grid
    oh, ow = t.spec.output_size
    for co, r, c in ((1, 0, 0), (1, oh - 1, ow - 2), (0, 1, 1)):
        got = hover(browser, f"out{co} {r} {c}")
        step = (co * oh + r) * ow + c
        sl = t.taps(step)
        assert got["self"] == [f"out{co} {r} {c}"]
        assert sorted(got["foot"]) == sorted(cell for ci in group_maps(t, co)
                                             for cell in cells(f"in{ci}", t.footprint(step)))
        want = [f"in{int(i[0])} {int(a)} {int(b)}" for i in t.tap_in[sl]
                for a, b in [np.array(g.origin) + i[1:] * np.array(g.spacing)]]
        assert sorted(got["tap"]) == sorted(want) and "kern" not in got
        detail = detail_text(browser)
        assert detail == stacked_output_text(t, co, r, c)
        assert detail.split(", where ")[0].endswith(f" = {_n(t.output[co, r, c])}")
        assert f"b({_n(t.bias[co])})" in detail
    # Clicked, a lower map's value stays while the pointer moves on to an input map.
    from selenium.webdriver.common.action_chains import ActionChains
    target = browser.find_element("css selector", '.ca-figure svg [data-cell="out1 0 0"]')
    ActionChains(browser).move_to_element(target).click().perform()
    pinned = browser.execute_script(HIGHLIGHT)
    hover(browser, "in0 0 0")
    assert browser.execute_script(HIGHLIGHT) == pinned and pinned["self"] == ["out1 0 0"]
    assert detail_text(browser) == "pinned (Escape clears): " + stacked_output_text(t, 1, 0, 0)
    browser.find_element("css selector", "body").send_keys("\ue00c")  # Escape
    assert browser.execute_script(HIGHLIGHT) == {}
    assert errors(browser) == []


def test_an_iso_channel_input_cell_lights_every_output_it_feeds(browser, pages):
    path, t = pages["chi_conv"]
    load(browser, path)
    # The lowest map, in its front row: in sight (a map covers the one below it but for
    # the band along its front edges; the middle of the map is under map 1).
    ci, y, x = 2, 4, 2
    got = hover(browser, f"in{ci} {y} {x}")
    assert got["self"] == [f"in{ci} {y} {x}"]
    fed = t.tap_out[np.all(t.tap_in == (ci, y, x), axis=1)]
    assert len(set(fed[:, 0].tolist())) == 2 and len(fed) == 6  # 3 cells on both output maps
    assert sorted(got["dst"]) == sorted(f"out{a} {b} {c}" for a, b, c in fed)
    assert detail_text(browser).startswith(
        f"x[{ci},{y},{x}] = {_n(t.input[ci, y, x])} feeds {len(fed)} output values: y[")
    assert errors(browser) == []


def _below(plane, point) -> tuple[int, int] | None:
    """The cell of ``plane`` (a layout plane) under the canvas ``point``, or None."""
    o = np.array(plane.corner(0, 0))
    u = np.array(plane.corner(0, 1)) - o
    v = np.array(plane.corner(1, 0)) - o
    c, r = np.linalg.solve(np.stack([u, v], axis=1), np.array(point) - o)
    r, c = int(np.floor(r)), int(np.floor(c))
    (fr, fc), (h, w) = plane.first, plane.shape
    return (r, c) if fr <= r < fr + h and fc <= c < fc + w else None


@pytest.mark.parametrize("name", ["chi_conv", "chi_tconv"])
def test_an_iso_channel_input_cell_under_a_map_above_picks_the_map_on_top(browser, pages, name):
    """The pointer over a part of input map k that the map above covers finds the map on
    top, at the cell the layout has there; a highlight on a map is cut where maps above
    cover it (the part in sight solid, the covered part outlined, dashed)."""
    path, t = pages[name]
    load(browser, path)
    planes = ca.layout(t).maps
    for k in range(1, len(planes)):
        # The back corner of map k (top on screen): under map k-1, lifted straight up.
        r, c = planes[k].first[0], planes[k].first[1] + planes[k].shape[1] - 1
        point = planes[k].corner(r + 0.5, c + 0.5)
        top = next(j for j in range(k) if _below(planes[j], point))
        assert top < k
        want = _below(planes[top], point)
        got = hover_at(browser, f"in{k}", r, c)
        assert got["self"] == [f"in{top} {want[0]} {want[1]}"], k
    # An output value's taps on a covered part of a lower map: drawn twice, the seen
    # part masked by the maps above and the covered part dashed.
    got = hover(browser, "out0 0 0")
    masks = browser.execute_script("""
      return Array.from(document.querySelectorAll('.ca-hl [data-under]'))
        .map(el => [el.getAttribute('data-under'), el.getAttribute('mask')]);""")
    assert ["tap", "url(#ca-hid-in1)"] in masks and not any(m.endswith("-in0)") for _, m in masks)
    assert browser.execute_script(
        "return document.querySelectorAll('#ca-seen-in1 path').length") == 1
    assert errors(browser) == []
