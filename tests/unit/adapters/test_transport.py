"""The environment is read once for the SDK clients' HTTP transport, with the same outcome requests had."""

from __future__ import annotations

import pytest
from azure.core.pipeline.transport import RequestsTransport

from shared.adapters.transport import transport_options


def test_without_a_proxy_the_clients_stop_reading_the_environment_per_request():
    assert transport_options({"PATH": "/usr/bin", "NO_PROXY": "localhost"}) == {"use_env_settings": False}


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_ca_bundle_named_in_the_environment_is_passed_explicitly(variable: str):
    assert transport_options({variable: "/etc/ssl/corp.pem"}) == {
        "use_env_settings": False,
        "connection_verify": "/etc/ssl/corp.pem",
    }


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "http_proxy", "ALL_PROXY"])
def test_with_a_proxy_nothing_changes(variable: str):
    assert transport_options({variable: "http://proxy:3128", "REQUESTS_CA_BUNDLE": "/etc/ssl/corp.pem"}) == {}


def test_the_options_reach_requests_as_the_sdks_build_their_transport():
    transport = RequestsTransport(**transport_options({"REQUESTS_CA_BUNDLE": "/etc/ssl/corp.pem"}))
    transport.open()
    try:
        assert transport.session is not None and transport.session.trust_env is False
        assert transport.connection_config.verify == "/etc/ssl/corp.pem"
    finally:
        transport.close()
