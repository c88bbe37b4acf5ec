from django.urls import path

from bench import views

urlpatterns = [
    path("trivial/", views.trivial),
    path("insert/", views.bare_insert),
    path("list/", views.bare_list),
]
