"""The Function App's HTTP trigger is anonymous at the Functions layer: every ``/api`` route authenticates
its caller itself (an Entra bearer token, or a webhook's signature), and a function key would keep browsers
(the console at /console) and azure-ai-ml (the ARM-shaped routes) out, neither of which can send one."""

from __future__ import annotations

import azure.functions as func

import function_app


def test_the_http_trigger_needs_no_function_key():
    levels = [
        binding.get_dict_repr()["authLevel"]
        for function in function_app.app.get_functions()
        for binding in function.get_bindings()
        if binding.type == "httpTrigger"
    ]
    assert levels == [func.AuthLevel.ANONYMOUS]
