"""The webhook endpoints' rows of the isolation and role tables (tests/organizing/isolation_table.py has the rest;
tests/organizing/test_isolation.py joins them)."""

from tests.organizing.isolation_table import RUN, Case, ask

# Webhooks (issue 16): owners only (RUN_LETTER). B's endpoint through A's URL: tests/webhooks/test_manage.py.
HOOK_API = "api/v1/manage/letters/<slug:slug>/webhooks/"
HOOK_API_ONE = HOOK_API + "<public_id:endpoint_id>/"
HOOK_PAGE = "manage/<slug:slug>/webhooks/"
HOOK_PAGE_ONE = HOOK_PAGE + "<slug:endpoint_id>/"
HOOK = {"url": "https://hooks.example/in", "event_types": ["signature.confirmed"]}
NOT_FOUND = {"No such endpoint.", "No such delivery."}
CASES: dict[str, list[Case]] = {
    HOOK_API: [
        ask("get", "/api/v1/manage/letters/{b}/webhooks/"),
        ask("post", "/api/v1/manage/letters/{b}/webhooks/", HOOK),
        ask("get", "/api/v1/manage/letters/{a}/webhooks/?letter={b}", expect=200),
    ],
    HOOK_API_ONE: [
        ask("get", "/api/v1/manage/letters/{b}/webhooks/none/"),
        ask("patch", "/api/v1/manage/letters/{b}/webhooks/none/", {"active": False}),
        ask("delete", "/api/v1/manage/letters/{b}/webhooks/none/"),
        ask("get", "/api/v1/manage/letters/{a}/webhooks/none/"),
    ],
    HOOK_API_ONE + "rotate": [ask("post", "/api/v1/manage/letters/{b}/webhooks/none/rotate")],
    HOOK_API_ONE + "ping": [ask("post", "/api/v1/manage/letters/{b}/webhooks/none/ping")],
    HOOK_API_ONE + "deliveries/": [ask("get", "/api/v1/manage/letters/{b}/webhooks/none/deliveries/")],
    HOOK_API_ONE + "deliveries/<webhook_id:webhook_id>/redeliver": [
        ask("post", "/api/v1/manage/letters/{b}/webhooks/none/deliveries/msg_none/redeliver")
    ],
    "api/v1/manage/letters/<slug:slug>/milestones": [
        ask("get", "/api/v1/manage/letters/{b}/milestones"),
        ask("put", "/api/v1/manage/letters/{b}/milestones", {"thresholds": [150]}),
    ],
    HOOK_PAGE: [
        ask("get", "/manage/{b}/webhooks/", json=False),
        ask("post", "/manage/{b}/webhooks/", HOOK, json=False),
    ],
    "manage/<slug:slug>/milestones/": [ask("post", "/manage/{b}/milestones/", {"thresholds": "150"}, json=False)],
    HOOK_PAGE_ONE: [
        ask("get", "/manage/{b}/webhooks/none/", json=False),
        ask("post", "/manage/{b}/webhooks/none/", HOOK, json=False),
        ask("get", "/manage/{a}/webhooks/none/", json=False),
    ],
    HOOK_PAGE_ONE + "rotate/": [ask("post", "/manage/{b}/webhooks/none/rotate/", json=False)],
    HOOK_PAGE_ONE + "delete/": [ask("post", "/manage/{b}/webhooks/none/delete/", json=False)],
    HOOK_PAGE_ONE + "ping/": [ask("post", "/manage/{b}/webhooks/none/ping/", json=False)],
    HOOK_PAGE_ONE + "deliveries/<slug:webhook_id>/redeliver/": [
        ask("post", "/manage/{b}/webhooks/none/deliveries/msg_none/redeliver/", json=False)
    ],
}
ROLE_TABLE: dict[str, tuple[set[str], Case | None]] = {
    HOOK_API: (RUN, ask("post", "/api/v1/manage/letters/{a}/webhooks/", HOOK)),
    HOOK_API_ONE: (RUN, ask("get", "/api/v1/manage/letters/{a}/webhooks/none/")),
    HOOK_API_ONE + "rotate": (RUN, ask("post", "/api/v1/manage/letters/{a}/webhooks/none/rotate")),
    HOOK_API_ONE + "ping": (RUN, ask("post", "/api/v1/manage/letters/{a}/webhooks/none/ping")),
    HOOK_API_ONE + "deliveries/": (RUN, ask("get", "/api/v1/manage/letters/{a}/webhooks/none/deliveries/")),
    HOOK_API_ONE + "deliveries/<webhook_id:webhook_id>/redeliver": (
        RUN,
        ask("post", "/api/v1/manage/letters/{a}/webhooks/none/deliveries/msg_none/redeliver"),
    ),
    "api/v1/manage/letters/<slug:slug>/milestones": (
        RUN,
        ask("put", "/api/v1/manage/letters/{a}/milestones", {"thresholds": [150]}),
    ),
    HOOK_PAGE: (RUN, ask("post", "/manage/{a}/webhooks/", HOOK, json=False)),
    "manage/<slug:slug>/milestones/": (
        RUN,
        ask("post", "/manage/{a}/milestones/", {"thresholds": "150"}, json=False),
    ),
    HOOK_PAGE_ONE: (RUN, ask("get", "/manage/{a}/webhooks/none/", json=False)),
    HOOK_PAGE_ONE + "rotate/": (RUN, ask("post", "/manage/{a}/webhooks/none/rotate/", json=False)),
    HOOK_PAGE_ONE + "delete/": (RUN, ask("post", "/manage/{a}/webhooks/none/delete/", json=False)),
    HOOK_PAGE_ONE + "ping/": (RUN, ask("post", "/manage/{a}/webhooks/none/ping/", json=False)),
    HOOK_PAGE_ONE + "deliveries/<slug:webhook_id>/redeliver/": (
        RUN,
        ask("post", "/manage/{a}/webhooks/none/deliveries/msg_none/redeliver/", json=False),
    ),
}
