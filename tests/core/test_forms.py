import copy

from django import forms
from django.forms.renderers import DjangoTemplates
from django.test.html import parse_html

from accounts.forms import ProfileForm
from accounts.models import User
from core.forms import LongChoiceField, LongSelect

CHOICES = [("UTC", "UTC"), ("Europe/Paris", "Europe/Paris"), ("a&b", "<b>A & B</b>")]


def test_long_select_renders_what_django_select_renders() -> None:
    attrs = {"id": "id_zone", "required": True, "aria-invalid": "true"}

    for value in ("Europe/Paris", "a&b", None, "missing"):
        ours = LongSelect(choices=CHOICES).render("zone", value, attrs)
        django = forms.Select(choices=CHOICES).render("zone", value, attrs)
        assert parse_html(ours) == parse_html(django)  # attribute order aside


def test_long_select_escapes_labels_and_values() -> None:
    html = LongSelect(choices=CHOICES).render("zone", "a&b")

    assert '<option value="a&amp;b" selected>&lt;b&gt;A &amp; B&lt;/b&gt;</option>' in html
    assert "<b>" not in html


def test_copies_share_the_choices_and_only_the_chosen_option_differs() -> None:
    class Form(forms.Form):
        zone = LongChoiceField(choices=CHOICES)

    first, second = Form(initial={"zone": "UTC"}), Form(initial={"zone": "Europe/Paris"})

    assert first.fields["zone"].widget.choices is second.fields["zone"].widget.choices
    assert '<option value="UTC" selected>' in str(first["zone"])
    assert '<option value="Europe/Paris" selected>' in str(second["zone"])
    assert '<option value="UTC" selected>' not in str(second["zone"])


def test_option_groups_fall_back_to_django() -> None:
    grouped = [("Europe", [("Europe/Paris", "Paris")]), ("UTC", "UTC")]
    widget = copy.deepcopy(LongSelect(choices=grouped))

    assert '<optgroup label="Europe">' in widget.render("zone", "UTC")


def test_the_profile_form_still_refuses_an_unknown_time_zone(db: None) -> None:
    user = User.objects.create_user(email="tz@example.com", password="x" * 12, display_name="Tz")
    form = ProfileForm({"display_name": "Tz", "bio": "", "time_zone": "Mars/Olympus"}, instance=user)

    assert not form.is_valid()
    assert "time_zone" in form.errors
    assert 'value="Europe/Paris"' in str(form["time_zone"])


def test_forms_render_with_djangos_own_renderer(user: User) -> None:
    form = ProfileForm(instance=user)

    assert type(form.renderer) is DjangoTemplates  # widget templates stay overridable the Django way
    assert str(form["bio"]).startswith('<textarea name="bio" cols="40" rows="3" maxlength="280"')
