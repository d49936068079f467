import copy

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.test.html import parse_html

from accounts.forms import ProfileForm
from accounts.models import User
from core.forms import FormRenderer, LongChoiceField, LongSelect

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


class EveryInput(forms.Form):
    name = forms.CharField(max_length=20, help_text="Yours.")
    email = forms.EmailField(required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True))
    count = forms.IntegerField(min_value=0)
    site = forms.URLField(required=False)
    token = forms.CharField(widget=forms.HiddenInput)
    bio = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "maxlength": 280}))
    agree = forms.BooleanField(required=False, widget=forms.CheckboxInput(attrs={"data-x": True}))


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"name": 'A "quoted" <b>name</b> & co', "email": "x@example.com", "secret": "p<w>", "count": "3"},
        {
            "name": "",
            "count": "-1",
            "site": "not a url",
            "token": "t&k",
            "bio": "Line one\n<script>x</script>",
        },
        {"name": "Ann", "count": "0", "bio": "", "agree": "on"},
    ],
)
def test_the_form_renderer_writes_exactly_what_django_templates_write(data: dict[str, str]) -> None:
    ours, django = FormRenderer(), DjangoTemplates()
    bound = EveryInput(data or None, initial={"count": 0}, renderer=ours)
    reference = EveryInput(data or None, initial={"count": 0}, renderer=django)
    bound.is_valid()
    reference.is_valid()

    for field in bound:
        assert str(field) == str(reference[field.name])  # byte for byte, attribute order included
    assert str(bound) == str(reference)


def test_the_profile_form_renders_with_the_project_renderer(user: User) -> None:
    html = str(ProfileForm(instance=user)["bio"])

    assert isinstance(ProfileForm(instance=user).renderer, FormRenderer)
    assert html.startswith('<textarea name="bio" cols="40" rows="3" maxlength="280"')
