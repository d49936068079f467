from django.urls import path

from staff import views

app_name = "staff"

urlpatterns = [
    path("staff/", views.staff_home, name="home"),
    path("staff/flags/", views.staff_flag_list, name="flag_list"),
    path("staff/flags/<slug:name>/toggle/", views.staff_flag_toggle, name="flag_toggle"),
    path("staff/flags/<slug:name>/message/", views.staff_flag_message, name="flag_message"),
    path("staff/audit/", views.staff_audit_list, name="audit_list"),
]
