"""The simulator's demo credentials, and the loader settings that point at a running simulator.

These are defaults for the demo and the tests only: the loaders themselves take no
default credentials, so a real deployment must configure its own.
"""

from __future__ import annotations

HUBSPOT_TOKEN = "xm-demo-hubspot-token"
ZENDESK_EMAIL = "demo@xm.example"
ZENDESK_TOKEN = "xm-demo-zendesk-token"
BAMBOOHR_COMPANY = "xmdemo"
BAMBOOHR_API_KEY = "xm-demo-bamboohr-key"
QUALTRICS_TOKEN = "xm-demo-qualtrics-token"


def loader_env(url: str) -> dict[str, str]:
    """dlt settings (as environment variables) for loading from a simulator at `url`."""
    url = url.rstrip("/")
    return {
        "SOURCES__HUBSPOT__BASE_URL": f"{url}/hubspot",
        "SOURCES__HUBSPOT__API_KEY": HUBSPOT_TOKEN,
        "SOURCES__ZENDESK__BASE_URL": f"{url}/zendesk/api/v2",
        "SOURCES__ZENDESK__EMAIL": ZENDESK_EMAIL,
        "SOURCES__ZENDESK__API_TOKEN": ZENDESK_TOKEN,
        "SOURCES__BAMBOOHR__BASE_URL": f"{url}/bamboohr/api/gateway.php/{BAMBOOHR_COMPANY}/v1",
        "SOURCES__BAMBOOHR__API_KEY": BAMBOOHR_API_KEY,
        "SOURCES__QUALTRICS__BASE_URL": f"{url}/qualtrics/API/v3",
        "SOURCES__QUALTRICS__API_TOKEN": QUALTRICS_TOKEN,
    }
