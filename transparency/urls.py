from django.urls import path

from transparency import views

app_name = "transparency"
urlpatterns = [
    path("checkpoint", views.checkpoint, name="checkpoint"),
    path("key", views.verifier_key, name="key"),
    path("tile/entries/<path:rest>", views.entries_tile, name="entries-tile"),
    path("tile/<int:level>/<path:rest>", views.hash_tile, name="hash-tile"),
]
