from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Probes and metrics for operators: /healthz, /readyz and /metrics. Reads letters and registry; nothing imports
    it back."""

    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from ops.devbeat import dev_beat_maybe_start

        dev_beat_maybe_start()  # `make run` only: beat's tasks in process (ops.devbeat)
