"""report.html in a real browser: its plots decode, its tables are there, and nothing from the inputs runs.

The string tests in test_report.py check the HTML text; this one checks what a reader gets. Headless
Chromium opens the file:// page of a grid whose variant names, errors and description carry script
and event-handler payloads; none may run, and all must be shown as text.

Needs Debian's browser and driver and selenium in the venv:
    apt-get install -y chromium chromium-driver
    .venv/bin/pip install selenium
Skips, with the reason, when any of them is missing.
"""

import io
import json
import shutil

import pytest
from test_report import _coco, _write_run

webdriver = pytest.importorskip(
    'selenium.webdriver', reason='selenium is not installed (.venv/bin/pip install selenium)'
)
from selenium.webdriver.common.by import By  # noqa: E402

import harness.report as report  # noqa: E402

CHROMIUM = next((p for p in map(shutil.which, ('chromium', 'chromium-browser', 'google-chrome')) if p), None)
CHROMEDRIVER = shutil.which('chromedriver')
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason=('needs chromium and chromedriver on PATH (apt-get install -y chromium chromium-driver)'),
)

SCRIPT = '<script>window.pwned=1</script>'
IMG = '<img src=x onerror=window.pwned=2>'


@pytest.fixture(scope='module')
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--window-size=1280,1600',
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    yield driver
    driver.quit()


@pytest.fixture
def evil_report(tmp_path):
    """zeros (baseline) and two variants named after payloads; `SCRIPT` holds a '/', so no run folder can exist."""
    work = tmp_path / 'evil'
    work.mkdir()
    variants = [{'name': 'zeros'}, {'name': IMG, 'description': SCRIPT}, {'name': SCRIPT}]
    grid = {
        'name': 'evil',
        'description': f'payloads: {SCRIPT} {IMG}',
        'baseline': 'zeros',
        'seeds': [0, 1],
        'variants': variants,
        'references': {IMG: {'coco/bbox_mAP': 40.0, 'source': IMG}},
    }
    (work / 'grid.json').write_text(json.dumps(grid))
    for seed in (0, 1):
        border = {
            'border/bbox_mAP@0-32': 0.1 + seed / 100,
            'border/bbox_mAP@32-inf': 0.3,
            'probe/H_spc': 0.5 + seed / 10,
            'probe/H_mae': 3.0,
        }
        _write_run(work, 'zeros', seed, {'status': 'done', 'metrics': _coco(0.30 + seed / 100, 0.2, **border)})
    _write_run(work, IMG, 0, {'status': 'done', 'metrics': _coco(0.25, 0.15, **border)})
    _write_run(work, IMG, 1, {'status': 'failed', 'metrics': {}, 'error': f'loss is nan {SCRIPT} {IMG}'})
    out = report.write_report(work, tmp_path / 'out')
    return out / 'report.html'


def test_report_html_in_a_real_browser(browser, evil_report, tmp_path):
    browser.get(evil_report.as_uri())
    assert browser.title == 'evil: ablation report'
    images = browser.execute_script('return Array.from(document.images, i => [i.complete, i.naturalWidth, i.alt])')
    # the findings' intervals, bbox / segm AP (spread, delta) and border AP (lines, delta): every PNG written is
    # on the page
    assert len(images) == len(list(evil_report.parent.glob('*.png'))) == 7
    assert all(complete and width > 0 for complete, width, _ in images), images
    headline = browser.find_element(By.XPATH, "//h2[normalize-space()='Headline']/following::table[1]")
    first_cells = [
        row.find_element(By.TAG_NAME, 'td').text for row in headline.find_elements(By.CSS_SELECTOR, 'tbody tr')
    ]
    assert first_cells == ['zeros', IMG, SCRIPT]
    assert browser.execute_script('return typeof window.pwned') == 'undefined'
    assert browser.execute_script("return document.querySelectorAll('script, [onerror], iframe').length") == 0
    text = browser.find_element(By.TAG_NAME, 'body').text
    assert SCRIPT in text and IMG in text and 'loss is nan' in text

    shot = tmp_path / 'report.png'
    assert browser.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    from PIL import Image  # matplotlib's own dependency

    with Image.open(io.BytesIO(data)) as img:
        assert img.size[0] >= 800
        hist = img.convert('L').histogram()  # pixels per grey level, 0 = black
    assert sum(1 for n in hist if n) > 16  # text, table shading and borders: not one flat colour
    assert sum(hist[:128]) > 0.002 * sum(hist)  # dark text on the page, not a blank or white screen
