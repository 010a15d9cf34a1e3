"""The web tool in a real browser (Playwright driving Debian's Chromium) against a real ``scalelaw serve``:
the calculator, the fit explorer and the sample-budget planner give what the command line gives.  Each page's
screenshot is saved under the pytest temp folder (the path is printed with -s); docs/web-*.png are copies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service_support import CHINCHILLA, Server
from support import DATA, run_cli

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (.ci/run does) to run the browser tests",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
expect = sync_api.expect
PER_PROBLEM = DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv"
LOSS_OPTIONS = ("starts=hoffmann, exclude_highest=5, seed=0",
                ["--starts", "hoffmann", "--exclude-highest", "5", "--bootstrap", "100", "--seed", "0"])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("web-serve")
    with Server(f"sqlite:///{folder}/registry.db", "--workers", "2", cwd=folder) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where the screenshots go (the pytest temp folder; they are printed at the end of each test)."""
    return tmp_path_factory.mktemp("web-screenshots")


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(30_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda err: errors.append(str(err)))
    try:
        yield tab
        assert errors == [], f"the page's script failed: {errors}"
    finally:
        context.close()


def api(server, method: str, path: str, **kwargs):
    import httpx

    return httpx.request(method, server.url + path, timeout=60, **kwargs)


def total_fits(server) -> int:
    return api(server, "GET", "/v1/fits?artifact=false").json()["total"]


def screenshot(page, shots: Path, name: str) -> Path:
    path = shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def test_the_calculator_gives_the_clis_lr_and_batch_and_keeps_them_on_a_bad_input(server, page, shots):
    cli = json.loads(run_cli("hparams", "recommend", "--params", "7B", "--tokens", "1.4T", "--json").stdout)
    assert f"{cli['lr']:.2e}" == "9.17e-04" and f"{cli['batch_size'] / 1e6:.1f}" == "5.0"
    page.goto(server.url + "/")
    expect(page.get_by_label("Law")).to_have_value("steplaw")
    page.get_by_label("Model size N (parameters)").fill("7B")
    page.get_by_label("Training tokens D").fill("1.4T")
    expect(page.locator("#lr")).to_have_text("9.17e-4")
    expect(page.locator("#batch-size")).to_have_text("5.0M tokens")
    expect(page.locator("#warnings li")).to_have_count(len(cli["warnings"]))
    expect(page.locator("#figure svg.panel")).to_have_count(2)
    expect(page.locator("#figure svg.panel").first).to_contain_text("model size N (parameters)")
    screenshot(page, shots, "calculator")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, shots, "calculator-phone")
    page.set_viewport_size({"width": 1200, "height": 900})

    before = {sel: page.locator(sel).inner_text() for sel in ("#lr", "#batch-size", "#batch-sequences", "#warnings")}
    line = api(server, "POST", "/v1/hparams/recommend", json={"params": "7X", "tokens": "1.4T"}).json()["error"]
    page.locator("#params").fill("7X")
    expect(page.locator("#params-error")).to_be_visible()
    expect(page.locator("#params-error")).to_have_text(line)
    assert {sel: page.locator(sel).inner_text() for sel in before} == before
    screenshot(page, shots, "calculator-error")
    page.locator("#params").fill("70B")
    expect(page.locator("#params-error")).to_be_hidden()
    expect(page.locator("#lr")).not_to_have_text(before["#lr"])


def test_a_stored_hyperparameter_fit_is_a_law_of_the_calculator(server, page, shots, tmp_path):
    from hparams_sweeps import sweep_frame, write

    sweep = Path(write(tmp_path / "sweep.csv", sweep_frame()))
    with sweep.open("rb") as handle:
        answer = api(server, "POST", "/v1/fits?wait=true", data={"family": "hparams", "bootstrap": "20",
                                                                 "name": "our-sweep"},
                     files={"file": (sweep.name, handle)})
    assert answer.status_code == 201, answer.text
    artifact = tmp_path / "hparams.json"
    artifact.write_text(json.dumps(answer.json()["artifact"]))
    cli = json.loads(run_cli("hparams", "recommend", "--law", str(artifact), "--params", "3B", "--tokens", "100B",
                             "--json").stdout)
    page.goto(server.url + "/")
    option = page.locator(f'#law option[value="fit:{answer.json()["id"]}"]')
    expect(option).to_contain_text("our-sweep")
    page.get_by_label("Law").select_option(f"fit:{answer.json()['id']}")
    page.get_by_label("Model size N (parameters)").fill("3B")
    page.get_by_label("Training tokens D").fill("100B")
    sci = lambda x: f"{x:.2e}".replace("e-0", "e-").replace("e+0", "e")  # noqa: E731
    expect(page.locator("#lr")).to_have_text(sci(cli["lr"]))
    lr = cli["intervals"]["lr"]
    expect(page.locator("#lr-interval")).to_have_text(f"95% [{sci(lr['lower'])}, {sci(lr['upper'])}]")
    expect(page.locator("#plateau table")).to_contain_text("0.25%")
    expect(page.locator("#figure svg.panel")).to_have_count(2)
    screenshot(page, shots, "calculator-fitted")


def test_the_explorer_fits_the_chinchilla_csv_as_the_cli_does(server, page, shots, tmp_path):
    text, flags = LOSS_OPTIONS
    cli_fit = tmp_path / "cli.json"
    run_cli("fit", "loss", str(CHINCHILLA), *flags, "--out", str(cli_fit))
    expected_e = json.loads(cli_fit.read_text())["params"]["E"]
    page.goto(server.url + "/fits")
    page.locator("#upload").set_input_files(str(CHINCHILLA))
    page.get_by_label("Family").select_option("loss")
    page.get_by_label("Bootstrap resamples").fill("100")
    page.get_by_label("More options").fill(text)
    page.locator("#fit-submit").click()
    expect(page.locator("#fit-status")).to_contain_text("done", timeout=90_000)
    expect(page.locator("#fits-table tbody tr")).not_to_have_count(0)
    screenshot(page, shots, "explorer")
    page.locator("#fit-link").click()
    shown = page.locator('#params-table tr[data-param="E"] td.num')
    expect(shown).not_to_have_text("")
    assert abs(float(shown.inner_text()) - expected_e) < 1e-4
    expect(page.locator('#params-table tr[data-param="E"] td.interval')).to_contain_text("[")
    expect(page.locator("#diagnostics")).to_contain_text("converged")
    page.locator("#predict-submit").click()
    expect(page.locator("#predict-out")).to_contain_text("prediction")
    page.locator("#optimal-submit").click()
    expect(page.locator("#optimal-out")).to_contain_text("parameters N")
    page.wait_for_function("document.querySelector('#fit-figure').naturalWidth > 0")
    screenshot(page, shots, "fit")


def test_a_non_numeric_cell_is_named_by_row_and_column_and_no_fit_is_stored(server, page, shots, tmp_path):
    lines = CHINCHILLA.read_text().splitlines()
    cells = lines[4].split(",")
    cells[-1] = "n/a"
    lines[4] = ",".join(cells)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines[:40]) + "\n")
    stored = total_fits(server)
    page.goto(server.url + "/fits")
    page.locator("#upload").set_input_files(str(bad))
    page.locator("#fit-submit").click()
    error = page.locator("#fit-error")
    expect(error).to_be_visible(timeout=60_000)
    expect(error).to_contain_text("row 4")
    expect(error).to_contain_text("column 'loss'")
    assert "\n" not in error.inner_text()
    assert total_fits(server) == stored
    screenshot(page, shots, "explorer-error")


def test_the_page_of_an_unknown_fit_gives_the_apis_line(server, page):
    line = api(server, "GET", "/v1/fits/nope").json()["error"]
    page.goto(server.url + "/fits/nope")
    expect(page.locator("#fit-load-error")).to_have_text(line)


def test_the_planner_gives_the_clis_samples_per_problem(server, page, shots, tmp_path):
    with PER_PROBLEM.open("rb") as handle:
        answer = api(server, "POST", "/v1/fits?wait=true", data={"family": "sampling", "name": "pythia-math"},
                     files={"file": (PER_PROBLEM.name, handle)})
    assert answer.status_code == 201, answer.text
    artifact = tmp_path / "sampling.json"
    artifact.write_text(json.dumps(answer.json()["artifact"]))
    cli = json.loads(run_cli("sampling", "plan", str(artifact), "--target", "0.5", "--json").stdout)
    page.goto(server.url + "/sampling")
    page.get_by_label("Sampling fit").select_option(answer.json()["id"])
    page.get_by_label("Target coverage (0 to 1)").fill("0.5")
    rows = page.locator("#plan-table tbody tr")
    expect(rows).to_have_count(len(cli["models"]))
    for model in cli["models"]:
        cell = page.locator(f'#plan-table tr[data-model="{model["model"]}"] td.samples')
        assert int(cell.inner_text().replace(",", "")) == model["samples"]
    screenshot(page, shots, "planner")


def test_a_service_with_tokens_takes_the_token_from_the_page(browser, tmp_path):
    tokens = tmp_path / "tokens.txt"
    secret = run_cli("token", "alice", "--token-file", str(tokens)).stdout.strip().split()[-1]
    context = browser.new_context()
    context.set_default_timeout(30_000)
    try:
        with Server(f"sqlite:///{tmp_path}/registry.db", "--token-file", str(tokens), cwd=tmp_path) as guarded:
            page = context.new_page()
            page.goto(guarded.url + "/fits")
            page.locator("#upload").set_input_files(str(CHINCHILLA))
            page.locator("#fit-submit").click()
            expect(page.locator("#fit-error")).to_contain_text("needs a token")
            page.locator(".token summary").click()
            page.get_by_label("Access token (kept in this browser)").fill(secret)
            page.get_by_label("Access token (kept in this browser)").dispatch_event("change")
            page.locator("#fit-submit").click()
            expect(page.locator("#fit-status")).to_contain_text("done", timeout=90_000)
            expect(page.locator("#fit-error")).to_be_hidden()
    finally:
        context.close()


def test_the_pages_ship_their_assets_and_name_no_other_host(server):
    for path in ("/", "/fits", "/sampling", "/fits/nope", "/static/app.js", "/static/style.css"):
        body = api(server, "GET", path)
        assert body.status_code == 200, path
        assert "http://" not in body.text.replace(server.url, "") or path.endswith(".js")
        assert "https://" not in body.text
    assert api(server, "GET", "/static/nope.js").status_code == 404
    assert not any(p.startswith(("/fits", "/sampling", "/static")) for p in api(server, "GET", "/openapi.json")
                   .json()["paths"])

