"""The page is safe: values render as text, the CSP holds, keyboard alone works, axe-core."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import Page
from tests.e2e.helpers import create_payment

XSS = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "<script>window.__xss=2</script>"


def test_api_values_render_as_text_never_as_html(page: Page, merchant, api) -> None:
    payment = create_payment(
        api, vpa="success@upi", description=XSS_SCRIPT, metadata={"note": XSS, XSS_SCRIPT[:40]: XSS}
    )
    page.sign_in(merchant.api_key)
    page.go(f"#/payments/{payment['id']}")
    page.wait_text("#description", lambda t: t == XSS_SCRIPT)
    values = [e.text for e in page.driver.find_elements(By.CSS_SELECTOR, "#metadata .value")]
    keys = [e.text for e in page.driver.find_elements(By.CSS_SELECTOR, "#metadata .key")]
    assert values == [XSS, XSS] and set(keys) == {"note", XSS_SCRIPT[:40]}
    # Nothing became markup: no image, no script in the view, and neither handler ran.
    assert page.driver.find_elements(By.CSS_SELECTOR, "#view img, #view script") == []
    assert page.driver.execute_script("return window.__xss") is None
    page.shot("xss-as-text")


def test_keyboard_alone_signs_in_creates_a_payment_and_opens_it(page: Page, merchant) -> None:
    driver = page.driver
    driver.get(page.url + "#/signin")
    driver.execute_script("sessionStorage.clear()")
    driver.get(page.url + "#/signin")
    page.wait(lambda d: d.switch_to.active_element.get_attribute("id") == "api-key")
    driver.switch_to.active_element.send_keys(merchant.api_key, Keys.ENTER)
    page.wait(lambda d: d.execute_script("return location.hash") == "#/payments")

    def tab_to(predicate, limit: int = 40) -> None:
        for _ in range(limit):
            driver.switch_to.active_element.send_keys(Keys.TAB)
            if predicate(driver.switch_to.active_element):
                return
        raise AssertionError("never reached by Tab")

    tab_to(lambda e: e.text == "New test payment")
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    page.wait(lambda d: d.switch_to.active_element.text == "New test payment")  # the h1
    tab_to(lambda e: e.get_attribute("id") == "new-amount")
    field = driver.switch_to.active_element
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("1234")
    tab_to(lambda e: e.get_attribute("id") == "create-button")
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    page.wait(lambda d: d.execute_script("return location.hash").startswith("#/payments/pay_"))
    page.wait_text(".fields", lambda t: "₹12.34" in t and "SUCCESS" in t)
    # The skip link is the first stop and moves focus to the content.
    driver.get(page.url + "#/payments")
    driver.refresh()  # a fresh load starts at the top
    page.wait(lambda d: d.find_element(By.CSS_SELECTOR, "#payments-rows tr"))
    driver.switch_to.active_element.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("id") == "skip"
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    assert driver.switch_to.active_element.get_attribute("id") == "main"


def test_every_view_passes_axe_and_loads_no_inline_code(page: Page, merchant, api) -> None:
    create_payment(api, vpa="success@upi", metadata={"k": "v"})
    page.driver.get(page.url + "#/signin")
    page.driver.execute_script("sessionStorage.clear()")
    page.driver.get(page.url + "#/signin")
    page.wait(lambda d: d.find_element(By.ID, "api-key"))
    assert page.axe_violations() == []
    page.shot("sign-in")
    page.sign_in(merchant.api_key)
    for route, ready in (("#/payments", "#payments-rows tr"), ("#/new", "#create-form")):
        page.go(route)
        page.wait(lambda d, css=ready: d.find_element(By.CSS_SELECTOR, css))
        assert page.axe_violations() == [], route
        page.shot(route.strip("#/").replace("/", "-") or "home")
    # The page itself has no inline script and no CSP violation was reported.
    inline = page.driver.execute_script(
        "return [...document.scripts].filter((s) => !s.src).length"
        " + document.querySelectorAll('[style]').length"
    )
    assert inline == 0
    assert not [e for e in page.console_errors() if "Content Security Policy" in e]


def test_the_key_stays_in_session_storage_only(page: Page, merchant, dashboard_server) -> None:
    page.sign_in(merchant.api_key)
    page.go("#/new")
    page.click("#create-button")
    page.wait(lambda d: d.execute_script("return location.hash").startswith("#/payments/pay_"))
    page.wait_text(".fields", lambda t: "SUCCESS" in t)
    stored = page.driver.execute_script("return sessionStorage.getItem('gateway.apiKey')")
    assert stored == merchant.api_key
    assert page.driver.execute_script("return localStorage.length") == 0
    assert page.driver.get_cookies() == []
    urls = page.driver.execute_script(
        "return [location.href, ...performance.getEntriesByType('resource').map((r) => r.name)]"
    )
    assert len(urls) > 5 and not [u for u in urls if merchant.api_key in u]
    assert merchant.api_key not in dashboard_server.log_text()
    page.click("#signout")
    page.wait(lambda d: d.find_element(By.ID, "api-key"))
    assert page.driver.execute_script("return sessionStorage.length") == 0
