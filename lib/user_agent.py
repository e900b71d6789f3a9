"""A short, readable name for a browser's User-Agent string: "Chrome trên Windows", "Safari trên iPhone".

Only what a person needs to recognise their own device in the session list; the full string stays in
the row. The tokens are checked in order because browsers copy each other's (Edge and Cốc Cốc say
"Chrome", Chrome says "Safari").
"""

import re

BROWSERS = [
    ("Zalo", r"\bZalo(?:App|Theme)?\b"),
    ("Cốc Cốc", r"coc_coc_browser"),
    ("Edge", r"\bEdg(?:e|A|iOS)?/"),
    ("Opera", r"\bOPR/|\bOpera\b"),
    ("Samsung Internet", r"SamsungBrowser/"),
    ("Firefox", r"\bFirefox/|\bFxiOS/"),
    ("Chrome", r"\bChrome/|\bCriOS/|\bChromium/"),
    ("Safari", r"\bSafari/"),
]
SYSTEMS = [
    ("iPhone", r"\biPhone\b"),
    ("iPad", r"\biPad\b"),
    ("Android", r"\bAndroid\b"),
    ("Windows", r"\bWindows\b"),
    ("macOS", r"\bMac OS X\b|\bMacintosh\b"),
    ("ChromeOS", r"\bCrOS\b"),
    ("Linux", r"\bLinux\b"),
]


def _first(table, text):
    for name, pattern in table:
        if re.search(pattern, text):
            return name
    return None


def describe(user_agent: str) -> tuple[str | None, str | None]:
    """(browser, operating system), each None when not recognised."""
    text = user_agent or ""
    return _first(BROWSERS, text), _first(SYSTEMS, text)
