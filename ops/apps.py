from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Probes and metrics for operators: /healthz, /readyz and /metrics. Reads letters and registry; nothing imports
    it back."""

    name = "ops"
    verbose_name = "Operations"
