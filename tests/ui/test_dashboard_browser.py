"""Open the app in Chromium, change method and cut, pick an event, step through, follow a shared URL."""

from __future__ import annotations

import re


def _open(browser, url):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(url, timeout=120_000)
    page.wait_for_selector("text=Overview", timeout=120_000)
    return page


def test_dashboard_end_to_end(browser, dashboard_url, artifacts):
    page = _open(browser, dashboard_url)
    page.wait_for_selector("text=Per process", timeout=60_000)
    page.screenshot(path=str(artifacts / "overview.png"), full_page=True)

    page.get_by_text("Spectra", exact=True).first.click()
    page.wait_for_selector("text=m_jj after flat-efficiency cuts", timeout=60_000)
    page.wait_for_selector("text=/no cut: \\d+ events/", timeout=60_000)
    page.screenshot(path=str(artifacts / "spectra.png"), full_page=True)

    # change the method in the sidebar: the spectra title follows
    # the first menu is the Run: it offers the Run the server was pointed at, by name, not by path
    run_menu = page.locator("select").first
    chosen = run_menu.evaluate("e => e.options[e.selectedIndex].text")
    assert chosen.endswith("/run") and not chosen.startswith("/"), chosen
    method_menu = page.locator("select", has=page.locator("option", has_text="cut_tau21")).first
    method_menu.select_option("cut_tau21")
    page.wait_for_selector("text=cut_tau21: m_jj after flat-efficiency cuts", timeout=60_000)
    assert "method=cut_tau21" in page.url

    # change the cut: the URL carries it
    page.get_by_role("button", name="0.1", exact=True).click()
    page.wait_for_function("() => window.location.search.includes('efficiency=0.1')", timeout=30_000)

    # pick the most anomalous event, then step to the next one; event ids equal rows in this Run
    page.get_by_text("Events", exact=True).first.click()
    page.locator(".tabulator-row").first.click()
    page.wait_for_function("() => /event_row=\\d+/.test(window.location.search)", timeout=30_000)
    first_row = re.search(r"event_row=(\d+)", page.url).group(1)
    page.wait_for_selector(f"text=Event {first_row}, m_jj", timeout=60_000)
    page.get_by_text("Next ▶").click()
    row_now = "new URLSearchParams(window.location.search).get('event_row')"
    page.wait_for_function(f"() => {row_now} !== null && {row_now} !== '{first_row}'", timeout=30_000)
    row = re.search(r"event_row=(\d+)", page.url).group(1)
    page.wait_for_selector(f"text=Event {row}, m_jj", timeout=60_000)
    page.screenshot(path=str(artifacts / "event_display.png"), full_page=True)

    # a shared link reproduces the state: same method, cut and event
    shared = browser.new_page(viewport={"width": 1366, "height": 900})
    shared.goto(page.url, timeout=120_000)
    shared.wait_for_selector("text=Overview", timeout=120_000)
    shared.get_by_text("Events", exact=True).first.click()
    shared.wait_for_selector(f"text=Event {row}, m_jj", timeout=60_000)
    assert "method=cut_tau21" in shared.url and "efficiency=0.1" in shared.url
    shared.screenshot(path=str(artifacts / "shared_link.png"), full_page=True)


def test_brushing_a_mass_range_filters_the_other_views(browser, dashboard_url, artifacts):
    page = _open(browser, dashboard_url + "?method=cut_tau21&efficiency=1.0")
    page.get_by_text("Spectra", exact=True).first.click()
    page.wait_for_selector("text=/no cut: \\d+ events/", timeout=60_000)
    canvas = page.locator(".bk-Canvas").first  # the spectrum; box-select (x) is its active drag tool
    canvas.wait_for(timeout=60_000)
    box = canvas.bounding_box()
    y = box["y"] + 0.5 * box["height"]
    page.mouse.move(box["x"] + 0.30 * box["width"], y)
    page.mouse.down()
    page.mouse.move(box["x"] + 0.55 * box["width"], y, steps=8)
    page.mouse.up()
    page.wait_for_function(
        "() => ['mjj_lo', 'mjj_hi'].every(k => new URLSearchParams(window.location.search).has(k))", timeout=30_000
    )
    params = dict(p.split("=") for p in page.url.split("?")[1].split("&"))
    lo, hi = sorted((float(params["mjj_lo"]), float(params["mjj_hi"])))
    assert 0 < lo < hi
    page.wait_for_selector(f"text=m_jj window: {lo:.0f}–{hi:.0f} GeV", timeout=30_000)
    page.screenshot(path=str(artifacts / "brushed_spectrum.png"), full_page=True)

    # the event table holds only events inside the window
    page.get_by_text("Events", exact=True).first.click()
    page.wait_for_selector(".tabulator-row", timeout=60_000)
    cells = page.locator(".tabulator-row .tabulator-cell[tabulator-field='mjj']").all_inner_texts()
    values = [float(c.replace(",", "")) for c in cells]
    assert values and all(lo - 1 <= v <= hi + 1 for v in values), (lo, hi, values)
    # and the feature view says which window it shows
    page.get_by_text("What is anomalous?", exact=True).first.click()
    page.wait_for_selector(f"text=/against the other [0-9,]+, in {lo:.0f}–{hi:.0f} GeV/", timeout=60_000)
    page.screenshot(path=str(artifacts / "brushed_features.png"), full_page=True)


def test_projector_mode_enlarges_text_and_plots(browser, dashboard_url, artifacts):
    page = _open(browser, dashboard_url)
    text = page.get_by_text("Per process", exact=False).first
    text.wait_for(timeout=60_000)
    size = "e => parseFloat(getComputedStyle(e).fontSize)"
    before = text.evaluate(size)
    page.get_by_text("Projector mode (large fonts)").wait_for(timeout=30_000)
    page.locator("input[type=checkbox]").first.check()  # the sidebar's only checkbox
    page.wait_for_function("() => window.location.search.includes('large_fonts=true')", timeout=30_000)
    after = before
    for _ in range(100):  # the style change arrives after the URL change
        after = page.get_by_text("Per process", exact=False).first.evaluate(size)
        if after >= 1.3 * before:
            break
        page.wait_for_timeout(100)
    assert after >= 1.3 * before, (before, after)
    page.screenshot(path=str(artifacts / "projector_mode.png"), full_page=True)


_DRAWN_AS = """() => { const n = {svg: 0, canvas: 0}; const walk = r => { for (const e of r.querySelectorAll('*')) {
    if (e.tagName === 'svg' && e.getAttribute('width')) n.svg++; if (e.tagName === 'CANVAS') n.canvas++;
    if (e.shadowRoot) walk(e.shadowRoot); } }; walk(document); return n; }"""


def test_plots_are_drawn_as_svg_for_vector_export(browser, dashboard_url, artifacts):
    page = _open(browser, dashboard_url + "?plot_format=svg")
    page.wait_for_selector("text=Plots save as SVG", timeout=60_000)
    page.get_by_text("Spectra", exact=True).first.click()
    page.wait_for_selector("text=/no cut: \\d+ events/", timeout=60_000)
    page.wait_for_timeout(1000)
    drawn = page.evaluate(_DRAWN_AS)
    assert drawn["svg"] >= 3 and drawn["canvas"] == 0, drawn  # spectrum, pulls, scan: vector figures
    page.screenshot(path=str(artifacts / "svg_spectra.png"), full_page=True)
    page.get_by_role("button", name="PNG (canvas)").click()  # reloads the page in the other format
    page.wait_for_selector("text=Plots save as PNG", timeout=60_000)
    assert "plot_format=png" in page.url


def test_the_sensitivity_tab_opens_a_measured_bench_result(browser, dashboard_url, artifacts):
    """The test Run belongs to no injection scan; the tab's menu opens the scan measured at 3× the demo's events,
    kept in the checkout without its Runs, with its table and CMS's factors labelled as published."""
    page = _open(browser, dashboard_url)
    page.get_by_text("Sensitivity", exact=True).first.click()
    page.wait_for_selector("text=No injection scan for this Run", timeout=60_000)
    menu = page.locator("select", has=page.locator("option", has_text="sensitivity_3x.json")).first
    menu.select_option("sensitivity_3x.json")
    page.wait_for_selector("text=Bench result", timeout=60_000)
    page.wait_for_selector("text=on 10.2 fb⁻¹ of background", timeout=10_000)
    page.wait_for_selector("text=CMS published", timeout=30_000)
    page.wait_for_timeout(1500)  # the plot draws after the table
    page.screenshot(path=str(artifacts / "sensitivity_bench.png"), full_page=True)
